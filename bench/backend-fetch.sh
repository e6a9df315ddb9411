#!/usr/bin/env bash
# Cold fetch of a 200 MB blob from a real docker-registry through RegistryBackend (1 MiB range reads, as nydusd
# issues them on demand, sequential and with 4 threads; and 16 MiB reads on 4 threads, as a merged prefetch of a
# whole blob issues them) against curl fetching the same blob: whole, and in 1 MiB ranges.
#
# usage: bench/backend-fetch.sh [SIZE_MB]        (run from anywhere; needs docker-registry, curl, mvn, java 17)
# Prints MB/s for each way and the ratio of the backend to curl (target >= 0.8).
set -euo pipefail

SIZE_MB=${1:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/nydus-bench-fetch.XXXXXX)
REG_PID=""
cleanup() {
    if [ -n "$REG_PID" ]; then
        kill "$REG_PID" 2>/dev/null || true
        wait "$REG_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in docker-registry curl java javac mvn sha256sum; do
    command -v "$tool" >/dev/null || {
        echo "backend-fetch: '$tool' is needed (apt-get install docker-registry curl maven openjdk-17-jdk-headless)" >&2
        exit 1
    }
done

# --- registry (plain HTTP, in-memory blob descriptor cache as in the registry's stock config) -----------------
PORT=$(shuf -i 20000-45000 -n 1)
while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$(shuf -i 20000-45000 -n 1); done
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $WORK/registry}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http: {addr: 127.0.0.1:$PORT}
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.05; done
REG="http://127.0.0.1:$PORT"
REPO=bench/blob

# --- a random blob, pushed with curl (monolithic upload) ------------------------------------------------------
head -c $((SIZE_MB * 1000 * 1000)) /dev/urandom >"$WORK/blob"
DIGEST="sha256:$(sha256sum "$WORK/blob" | cut -d' ' -f1)"
SIZE=$(stat -c %s "$WORK/blob")
LOC=$(curl -sf -X POST -D - -o /dev/null "$REG/v2/$REPO/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/blob" "$LOC&digest=$DIGEST" >/dev/null
rm -f "$WORK/blob"
URL="$REG/v2/$REPO/blobs/$DIGEST"

# --- classpath of the blobcache module ------------------------------------------------------------------------
cd "$ROOT"
mvn -B -q -o -pl blobcache compile >/dev/null 2>&1 || mvn -B -q -pl blobcache compile >/dev/null
mvn -B -q -o -pl blobcache dependency:build-classpath -Dmdep.outputFile="$WORK/classpath" >/dev/null 2>&1 ||
    mvn -B -q -pl blobcache dependency:build-classpath -Dmdep.outputFile="$WORK/classpath" >/dev/null
CP="$ROOT/blobcache/target/classes:$(cat "$WORK/classpath")"

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }

# --- curl: whole blob, then 1 MiB ranges (one connection; and 4 processes) ----------------------------------
T=$(curl -s -o /dev/null -w '%{time_total}' "$URL")
CURL_WHOLE=$(mbps "$SIZE" "$T")
ranges() { # ranges FIRST STEP: a curl config fetching the ranges FIRST, FIRST+STEP, ... over one connection
    local i=$1 n=$(((SIZE + 1048575) / 1048576)) first=1 s e
    while [ "$i" -lt "$n" ]; do
        [ $first = 1 ] || echo next
        first=0
        s=$((i * 1048576))
        e=$(((i + 1) * 1048576 - 1))
        [ $e -lt "$SIZE" ] || e=$((SIZE - 1))
        printf 'url = "%s"\nrange = "%d-%d"\noutput = "/dev/null"\n' "$URL" "$s" "$e"
        i=$((i + $2))
    done
}
ranges 0 1 >"$WORK/ranges-1"
for t in 0 1 2 3; do ranges $t 4 >"$WORK/ranges-4-$t"; done
S=$(date +%s.%N)
curl -s -K "$WORK/ranges-1"
E=$(date +%s.%N)
CURL_RANGES_1=$(mbps "$SIZE" "$(elapsed "$S" "$E")")
S=$(date +%s.%N)
PIDS=()
for t in 0 1 2 3; do
    curl -s -K "$WORK/ranges-4-$t" &
    PIDS+=($!)
done
wait "${PIDS[@]}"
E=$(date +%s.%N)
CURL_RANGES_4=$(mbps "$SIZE" "$(elapsed "$S" "$E")")

# --- RegistryBackend ------------------------------------------------------------------------------------------
cat >"$WORK/BackendFetch.java" <<'JAVA'
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nydus.blobcache.BlobBackend;
import io.nydus.blobcache.ReadPriority;
import io.nydus.blobcache.backend.BlobBackends;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * args: host repo blob-id threads read-size. Fetches the blob twice, each time through a new RegistryBackend (the first in a
 * fresh JVM: no JIT, no connections) and prints both durations in seconds. Verifies the sha256 of what it read.
 */
public class BackendFetch {
    public static void main(String[] a) throws Exception {
        String config = "{\"scheme\":\"http\",\"host\":\"" + a[0] + "\",\"repo\":\"" + a[1] + "\"}";
        int threads = Integer.parseInt(a[3]);
        StringBuilder out = new StringBuilder();
        for (int pass = 0; pass < 2; pass++) {
            long t0 = System.nanoTime();
            byte[] all;
            try (BlobBackend b = BlobBackends.create("registry", new ObjectMapper().readTree(config), new ArrayList<>())) {
                long size = b.blobSize(a[2]);
                byte[] dst = new byte[(int) size];
                int chunk = Integer.parseInt(a[4]);
                AtomicLong next = new AtomicLong();
                ExecutorService pool = Executors.newFixedThreadPool(threads);
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    fs.add(pool.submit(() -> {
                        for (long off; (off = next.getAndAdd(chunk)) < size;) {
                            b.read(a[2], off, dst, (int) off, (int) Math.min(chunk, size - off), ReadPriority.ON_DEMAND);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
                pool.shutdown();
                all = dst;
            }
            double s = (System.nanoTime() - t0) / 1e9;
            String got = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(all));
            if (!got.equals(a[2])) {
                throw new IllegalStateException("read a blob with digest " + got);
            }
            out.append(s).append(' ');
        }
        System.out.println(out.toString().trim());
    }
}
JAVA
javac -d "$WORK/bench-classes" -cp "$CP" "$WORK/BackendFetch.java"
run_backend() { java -cp "$CP:$WORK/bench-classes" BackendFetch "127.0.0.1:$PORT" "$REPO" "${DIGEST#sha256:}" "$1" "$2"; }
read -r B1_COLD B1_WARM <<<"$(run_backend 1 1048576)"
read -r B4_COLD B4_WARM <<<"$(run_backend 4 1048576)"
read -r P4_COLD P4_WARM <<<"$(run_backend 4 16777216)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() { printf '%-52s %6s MB/s\n' "$1" "$2"; }
backend_row() { # label seconds curl-ranges-MB/s
    local m
    m=$(mbps "$SIZE" "$2")
    printf '%-52s %6s MB/s   ratio to curl whole %s, to curl ranges %s\n' "$1" "$m" \
        "$(ratio "$m" "$CURL_WHOLE")" "$(ratio "$m" "$3")"
}
echo "blob: $SIZE bytes; docker-registry $(docker-registry --version 2>/dev/null | awk '{print $3}') on 127.0.0.1; $(nproc) cores"
row "curl, whole blob (one GET)" "$CURL_WHOLE"
row "curl, 1 MiB ranges, 1 connection" "$CURL_RANGES_1"
row "curl, 1 MiB ranges, 4 processes" "$CURL_RANGES_4"
backend_row "RegistryBackend, 1 MiB reads, 1 thread, cold JVM" "$B1_COLD" "$CURL_RANGES_1"
backend_row "RegistryBackend, 1 MiB reads, 1 thread, 2nd fetch" "$B1_WARM" "$CURL_RANGES_1"
backend_row "RegistryBackend, 1 MiB reads, 4 threads, cold JVM" "$B4_COLD" "$CURL_RANGES_4"
backend_row "RegistryBackend, 1 MiB reads, 4 threads, 2nd fetch" "$B4_WARM" "$CURL_RANGES_4"
backend_row "RegistryBackend, 16 MiB reads (merged prefetch), 4 threads, cold JVM" "$P4_COLD" "$CURL_WHOLE"
backend_row "RegistryBackend, 16 MiB reads (merged prefetch), 4 threads, 2nd" "$P4_WARM" "$CURL_WHOLE"
echo "(cold JVM: a new process, no JIT, no connections; 2nd fetch: a new backend in the same JVM; target >= 0.8)"
echo "(load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg))"
