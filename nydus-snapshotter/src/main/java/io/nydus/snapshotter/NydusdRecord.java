package io.nydus.snapshotter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * What the snapshotter remembers of one nydusd across its own restarts (kept in the {@link SnapshotStore}):
 * how to start it again, where it serves, which process it was, and the RAFS instances it serves.
 *
 * @param id          daemon id: {@code nydusd-<snapshot id>} for a dedicated daemon, {@code shared} otherwise
 * @param shared      true for the shared daemon (instances are mounted through its API)
 * @param mountpoint  the FUSE mountpoint given on its command line
 * @param apiSock     its {@code --apisock}
 * @param logFile     where its stdout and stderr go
 * @param command     the full command line, reused verbatim on restart
 * @param pid         process id of the last start
 * @param startMillis start time of that process (guards against a recycled pid), 0 if unknown
 * @param instances   images it serves
 */
public record NydusdRecord(String id, boolean shared, String mountpoint, String apiSock, String logFile,
        List<String> command, long pid, long startMillis, List<RafsInstance> instances) {

    /**
     * One mounted image.
     *
     * @param snapshotId id of the bootstrap layer snapshot
     * @param mountpoint the host path containerd gets as overlay lowerdir
     * @param apiMountpoint {@code /<snapshot id>} inside a shared daemon; empty for a dedicated one
     * @param bootstrap  the RAFS bootstrap file
     * @param configFile the rendered nydusd config
     */
    public record RafsInstance(long snapshotId, String mountpoint, String apiMountpoint, String bootstrap,
            String configFile) {
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public NydusdRecord {
        command = List.copyOf(command);
        instances = List.copyOf(instances);
    }

    public NydusdRecord withProcess(long newPid, long newStartMillis) {
        return new NydusdRecord(id, shared, mountpoint, apiSock, logFile, command, newPid, newStartMillis, instances);
    }

    public NydusdRecord withInstance(RafsInstance instance) {
        List<RafsInstance> l = new ArrayList<>(instances);
        l.removeIf(i -> i.snapshotId() == instance.snapshotId());
        l.add(instance);
        return new NydusdRecord(id, shared, mountpoint, apiSock, logFile, command, pid, startMillis, l);
    }

    public NydusdRecord withoutInstance(long snapshotId) {
        List<RafsInstance> l = new ArrayList<>(instances);
        l.removeIf(i -> i.snapshotId() == snapshotId);
        return new NydusdRecord(id, shared, mountpoint, apiSock, logFile, command, pid, startMillis, l);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static NydusdRecord fromJson(String json) {
        try {
            return JSON.readValue(json, NydusdRecord.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("corrupt nydusd record: " + e.getOriginalMessage(), e);
        }
    }
}
