package io.nydus.snapshotter.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Chain ids against the ones containerd 1.6 computed for a nydusify-converted busybox image. */
class ChainIdsTest {
    @Test
    void matchContainerds() {
        String blob1 = "sha256:c67f315b1f7a6a55e49347860027721b1ae180f19c011de15a6ef1af18cd6e07";
        String blob2 = "sha256:31ef34c4311ce860335754478e9a65a0d5fe5a40d39b2e26a934ef4589427327";
        assertEquals(List.of(blob1, "sha256:3da27016550d258db9d0709229a41b4f8e29ce7116507e3f70d4cb3b20c46ffa"),
                ChainIds.of(List.of(blob1, blob2)));
        assertEquals(List.of(), ChainIds.of(List.of()));
    }
}
