package io.nydus.daemon;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * FUSE requests being served right now ({@code /api/v1/metrics/inflight}, with their {@link FuseProtocol}
 * opcodes): each serving thread owns a slot it overwrites per request, so tracking costs a few field writes and
 * memory is fixed.
 */
final class InflightOps {
    private static final int SLOTS = 128;

    static final class Slot {
        volatile int opcode;
        volatile long ino;
        volatile long unique;
        volatile long startSecs;
    }

    private final Slot[] slots = new Slot[SLOTS];
    private final AtomicInteger assigned = new AtomicInteger();
    private final AtomicLong unique = new AtomicLong();
    private final ThreadLocal<Slot> mine = ThreadLocal.withInitial(this::assign);

    InflightOps() {
        for (int i = 0; i < SLOTS; i++) {
            slots[i] = new Slot();
        }
    }

    private Slot assign() {
        // More threads than slots share slots; the report is then approximate, never unbounded.
        return slots[Math.floorMod(assigned.getAndIncrement(), SLOTS)];
    }

    Slot begin(int opcode, long ino) {
        Slot s = mine.get();
        s.ino = ino;
        s.unique = unique.incrementAndGet();
        s.startSecs = System.currentTimeMillis() / 1000;
        s.opcode = opcode;
        return s;
    }

    static void end(Slot s) {
        s.opcode = 0;
    }

    ArrayNode toJson() {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (Slot s : slots) {
            int op = s.opcode;
            if (op != 0) {
                ObjectNode o = a.addObject();
                o.put("inode", s.ino);
                o.put("opcode", op);
                o.put("unique", s.unique);
                o.put("timestamp_secs", s.startSecs);
            }
        }
        return a;
    }
}
