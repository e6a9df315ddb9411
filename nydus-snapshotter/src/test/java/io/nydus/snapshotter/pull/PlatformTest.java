package io.nydus.snapshotter.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code --platform} values and how index entries and image configs match them. */
class PlatformTest {
    private static JsonNode json(String s) throws Exception {
        return new ObjectMapper().readTree(s);
    }

    @Test
    void matchesAsContainerdDoes() throws Exception {
        Platform amd64 = Platform.parse("linux/amd64");
        assertTrue(amd64.matches(json("{\"os\": \"linux\", \"architecture\": \"amd64\"}")));
        assertFalse(amd64.matches(json("{\"os\": \"linux\", \"architecture\": \"arm64\"}")));
        assertFalse(amd64.matches(json("{\"os\": \"windows\", \"architecture\": \"amd64\"}")));
        assertFalse(amd64.matches(json("{}")));
        Platform arm64 = Platform.parse("linux/arm64/v8");
        assertTrue(arm64.matches(json("{\"os\": \"linux\", \"architecture\": \"arm64\"}")), "v8 is arm64's default");
        assertTrue(Platform.parse("linux/arm64").matches(json("{\"os\": \"linux\", \"architecture\": \"arm64\", "
                + "\"variant\": \"v8\"}")));
        assertFalse(Platform.parse("linux/arm/v7").matches(json("{\"os\": \"linux\", \"architecture\": \"arm\", "
                + "\"variant\": \"v6\"}")));
        assertEquals("linux/arm64/v8", arm64.toString());
        assertEquals(Platform.parse("linux/amd64"), Platform.parse("linux/x86_64"));
    }

    @Test
    void theHostIsALinuxPlatform() {
        assertEquals("linux", Platform.host().os());
        assertFalse(Platform.host().architecture().isEmpty());
    }

    @Test
    void badPlatformsAreRefused() {
        for (String bad : new String[] {"linux", "linux/", "/amd64", "a/b/c/d", "linux/arm/"}) {
            assertEquals("invalid platform \"" + bad + "\" (os/arch[/variant], e.g. linux/amd64)",
                    assertThrows(IllegalArgumentException.class, () -> Platform.parse(bad)).getMessage());
        }
    }
}
