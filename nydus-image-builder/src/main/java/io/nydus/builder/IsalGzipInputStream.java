package io.nydus.builder;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.IgnoreError;

/**
 * gzip decompression by Intel ISA-L's igzip ({@code libisal.so.2}, Debian package {@code libisal2}): it inflates
 * about twice as fast as zlib, and the gunzip thread is the one stage of a conversion that cannot be spread over
 * cores. {@link #usable()} is false when the library is missing or fails the self-test; callers then use
 * {@link java.util.zip.GZIPInputStream}.
 *
 * <p>Concatenated members are read as one stream, and bytes after the last member that do not start another one are
 * ignored, as {@link java.util.zip.GZIPInputStream} does. ISA-L checks each member's CRC-32 and length trailer.
 *
 * <p>The parts of {@code struct inflate_state} used (ISA-L 2.x ABI, x86-64; checked at load by the self-test):
 * <pre>
 * offset  size  field
 *      0     8  next_out     where the next output byte goes
 *      8     4  avail_out    room left at next_out
 *     16     8  next_in      the next input byte
 *     32     4  avail_in     input bytes left at next_in
 *  21160     4  block_state  ISAL_BLOCK_FINISH (5) once a member's trailer is checked
 *  21172     4  crc_flag     ISAL_GZIP (1): parse the gzip header, check the trailer
 *  87368        (size of the struct; STATE_BYTES leaves room for a larger one)
 * </pre>
 */
public final class IsalGzipInputStream extends InputStream {
    private static final System.Logger LOG = System.getLogger(IsalGzipInputStream.class.getName());
    private static final int NEXT_OUT = 0;
    private static final int AVAIL_OUT = 8;
    private static final int NEXT_IN = 16;
    private static final int AVAIL_IN = 32;
    private static final int BLOCK_STATE = 21160;
    private static final int CRC_FLAG = 21172;
    private static final int STATE_BYTES = 256 << 10;

    private static final int ISAL_BLOCK_FINISH = 5;
    private static final int ISAL_GZIP = 1;
    private static final int ISAL_DECOMP_OK = 0;
    private static final int ISAL_END_INPUT = 1;
    private static final int ISAL_OUT_OVERFLOW = 2;

    private static final int IN_BYTES = 256 << 10;
    private static final int OUT_BYTES = 256 << 10;

    /** The functions used from libisal. */
    public interface Isal {
        @IgnoreError
        void isal_inflate_init(Pointer state);

        @IgnoreError
        void isal_inflate_reset(Pointer state);

        @IgnoreError
        int isal_inflate(Pointer state);
    }

    /** Loaded and self-tested on first use; null when ISA-L cannot be used here. */
    private static final class Lib {
        static final Isal ISAL = load();
        static final Runtime RUNTIME = ISAL == null ? null : Runtime.getRuntime(ISAL);

        private static Isal load() {
            if (Boolean.getBoolean("nydus.isal.disable")) {
                return null;
            }
            for (String name : new String[] {"libisal.so.2", "isal"}) {
                Isal isal;
                try {
                    isal = LibraryLoader.create(Isal.class).failImmediately().load(name);
                } catch (LinkageError | RuntimeException e) {
                    continue; // not under this name
                }
                if (selfTest(isal)) {
                    return isal;
                }
                LOG.log(System.Logger.Level.DEBUG, "ISA-L ({0}) failed its self-test; gunzip uses java.util.zip", name);
                return null;
            }
            LOG.log(System.Logger.Level.DEBUG, "ISA-L not found (Debian: libisal2); gunzip uses java.util.zip");
            return null;
        }
    }

    private final InputStream in;
    private final Isal isal;
    private final ByteBuffer state;
    private final Pointer statePtr;
    private final ByteBuffer inBuf;
    private final long inAddr;
    private final ByteBuffer outBuf;
    private final long outAddr;
    private final byte[] transfer = new byte[IN_BYTES];
    private final byte[] one = new byte[1];
    private int outPos;
    private int outEnd;
    private boolean inputEnded;
    private boolean finished;
    private boolean closed;

    /** Whether ISA-L is installed and passed its self-test. */
    public static boolean usable() {
        return Lib.ISAL != null;
    }

    /** A gunzipping stream over {@code in}; only when {@link #usable()}. */
    public IsalGzipInputStream(InputStream in) {
        this(in, loaded(), Lib.RUNTIME);
    }

    private static Isal loaded() {
        if (Lib.ISAL == null) {
            throw new IllegalStateException("ISA-L is not available");
        }
        return Lib.ISAL;
    }

    private IsalGzipInputStream(InputStream in, Isal isal, Runtime runtime) {
        this.in = in;
        this.isal = isal;
        this.state = ByteBuffer.allocateDirect(STATE_BYTES).order(ByteOrder.nativeOrder());
        this.inBuf = ByteBuffer.allocateDirect(IN_BYTES);
        this.outBuf = ByteBuffer.allocateDirect(OUT_BYTES);
        this.statePtr = Pointer.wrap(runtime, state);
        this.inAddr = Pointer.wrap(runtime, inBuf).address();
        this.outAddr = Pointer.wrap(runtime, outBuf).address();
        isal.isal_inflate_init(statePtr);
        state.putInt(CRC_FLAG, ISAL_GZIP);
        state.putLong(NEXT_IN, inAddr);
        state.putInt(AVAIL_IN, 0);
    }

    @Override
    public int read() throws IOException {
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (len == 0) {
            return 0;
        }
        while (outPos == outEnd) {
            if (finished) {
                return -1;
            }
            inflate();
        }
        int n = Math.min(len, outEnd - outPos);
        outBuf.get(outPos, b, off, n);
        outPos += n;
        return n;
    }

    @Override
    public int available() {
        return outEnd - outPos;
    }

    /** Fills the output buffer with at least one byte, or marks the end of the last member. */
    private void inflate() throws IOException {
        outPos = 0;
        outEnd = 0;
        while (outEnd == 0 && !finished) {
            if (state.getInt(BLOCK_STATE) == ISAL_BLOCK_FINISH) {
                nextMember();
                continue;
            }
            // with the input at its end, one more call still flushes what the decoder holds
            boolean moreInput = state.getInt(AVAIL_IN) > 0 || refill();
            state.putLong(NEXT_OUT, outAddr);
            state.putInt(AVAIL_OUT, OUT_BYTES);
            int availIn = state.getInt(AVAIL_IN);
            int rc = isal.isal_inflate(statePtr);
            if (rc != ISAL_DECOMP_OK && rc != ISAL_END_INPUT && rc != ISAL_OUT_OVERFLOW) {
                throw new IOException("corrupt gzip data: " + error(rc));
            }
            outEnd = OUT_BYTES - state.getInt(AVAIL_OUT);
            if (outEnd == 0 && state.getInt(AVAIL_IN) == availIn && state.getInt(BLOCK_STATE) != ISAL_BLOCK_FINISH) {
                throw new IOException(moreInput ? "corrupt gzip data: the decoder made no progress"
                        : "gzip data ends too early (truncated layer)");
            }
        }
    }

    /**
     * After a member: another one when the next bytes start a deflate member's header; otherwise the end, whatever
     * follows (as java.util.zip's GZIPInputStream, the fallback, does; the layer digest covers those bytes).
     */
    private void nextMember() throws IOException {
        int left = state.getInt(AVAIL_IN);
        int offset = (int) (state.getLong(NEXT_IN) - inAddr);
        if (left < 3) {
            // move what is left to the front and read more behind it
            for (int i = 0; i < left; i++) {
                inBuf.put(i, inBuf.get(offset + i));
            }
            offset = 0;
            while (left < 3 && !inputEnded) {
                int n = in.read(transfer, 0, IN_BYTES - left);
                if (n < 0) {
                    inputEnded = true;
                } else {
                    inBuf.put(left, transfer, 0, n);
                    left += n;
                }
            }
        }
        if (left < 3 || (inBuf.get(offset) & 0xFF) != 0x1F || (inBuf.get(offset + 1) & 0xFF) != 0x8B
                || inBuf.get(offset + 2) != 8) {
            finished = true;
            return;
        }
        isal.isal_inflate_reset(statePtr);
        state.putInt(CRC_FLAG, ISAL_GZIP);
        state.putLong(NEXT_IN, inAddr + offset);
        state.putInt(AVAIL_IN, left);
    }

    private boolean refill() throws IOException {
        if (inputEnded) {
            return false;
        }
        int n = in.read(transfer, 0, IN_BYTES);
        while (n == 0) {
            n = in.read(transfer, 0, IN_BYTES);
        }
        if (n < 0) {
            inputEnded = true;
            return false;
        }
        inBuf.put(0, transfer, 0, n);
        state.putLong(NEXT_IN, inAddr);
        state.putInt(AVAIL_IN, n);
        return true;
    }

    private static String error(int rc) {
        return switch (rc) {
            case -1 -> "invalid block";
            case -2 -> "invalid symbol";
            case -3 -> "invalid lookback distance";
            case -4 -> "invalid gzip header";
            case -5 -> "unsupported compression method";
            case -6 -> "checksum or length mismatch";
            default -> "ISA-L error " + rc;
        };
    }

    @Override
    public void close() throws IOException {
        closed = true;
        in.close();
    }

    /**
     * Decompresses what java.util.zip wrote (two members) and expects the same
     * bytes; a damaged trailer must be refused. Guards the struct offsets above against another ABI.
     */
    private static boolean selfTest(Isal isal) {
        try {
            Runtime runtime = Runtime.getRuntime(isal);
            byte[] data = new byte[20_000]; // small: the test runs on the first layer's critical path
            Random r = new Random(42);
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) ('a' + r.nextInt(i % 7 + 1));
            }
            ByteArrayOutputStream gz = new ByteArrayOutputStream();
            for (int member = 0; member < 2; member++) {
                try (GZIPOutputStream g = new GZIPOutputStream(gz) {
                    {
                        def.setLevel(1);
                    }

                    @Override
                    public void close() throws IOException {
                        finish(); // keep gz open for the next member
                    }
                }) {
                    g.write(data);
                }
            }
            byte[] good = gz.toByteArray();
            byte[] expected = new byte[data.length * 2];
            System.arraycopy(data, 0, expected, 0, data.length);
            System.arraycopy(data, 0, expected, data.length, data.length);
            if (!Arrays.equals(expected, new IsalGzipInputStream(new ByteArrayInputStream(good), isal, runtime)
                    .readAllBytes())) {
                return false;
            }
            byte[] bad = good.clone();
            bad[bad.length - 5] ^= 1; // the last member's CRC-32
            try {
                new IsalGzipInputStream(new ByteArrayInputStream(bad), isal, runtime).readAllBytes();
                return false;
            } catch (IOException expectedFailure) {
                return true;
            }
        } catch (IOException | RuntimeException | LinkageError e) {
            return false;
        }
    }
}
