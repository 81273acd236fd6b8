// tokenizer-bench: prints load time, memory, single/two-thread throughput and
// 4 KB-message latency of the exact cl100k_base counter, and tiktoken's
// throughput on the same corpus when Python tiktoken is installed.
// It never asserts on time. Run it in release:
//   swift run -c release tokenizer-bench [--unicode-check]
import Foundation
import Tokenizer

func line(_ text: String) {
    // Unbuffered, so progress shows even when stdout is a pipe.
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

func mbps(_ bytes: Int, _ seconds: Double) -> String {
    String(format: "%.2f MB/s", Double(bytes) / 1e6 / seconds)
}

guard let url = TokenCounterLoader.ranksURL() else {
    line("no ranks file: set \(TokenCounterLoader.environmentVariable) or keep the resource bundle beside the binary")
    exit(1)
}
line("ranks file: \(url.path)")

// Load: first load (includes building the 64 KiB scalar-class table) and the median of later ones.
let rssBefore = Measure.residentBytes()
let (encoding, firstLoad) = try Measure.time {
    try TokenEncoding.load(contentsOf: url, expectedSHA256: TokenEncoding.cl100kSHA256)
}
let rssAfter = Measure.residentBytes()
var reloads: [Double] = []
for _ in 0..<7 {
    reloads.append(
        try Measure.time { try TokenEncoding.load(contentsOf: url, expectedSHA256: TokenEncoding.cl100kSHA256) }.1)
}
let fileData = try Data(contentsOf: url)
let shaSeconds = Measure.median(
    (0..<5).map { _ in Measure.time { fileData.withUnsafeBytes { PureSHA256.digest($0) } }.1 })
line(
    String(
        format: "load: first %.1f ms, median of 7 reloads %.1f ms (of which SHA-256 of %d bytes %.1f ms)",
        firstLoad * 1e3, Measure.median(reloads) * 1e3, fileData.count, shaSeconds * 1e3))
line(
    "memory: tables \(Measure.megabytes(encoding.memoryFootprint)) (estimate from structures), "
        + "RSS delta over first load "
        + (rssBefore.flatMap { b in rssAfter.map { Measure.megabytes($0 - b) } } ?? "n/a"))

// Corpus.
let (corpus, genSeconds) = Measure.time { Corpus.generate(minimumBytes: 10_500_000) }
let corpusBytes = corpus.utf8.count
line(
    String(
        format: "corpus: %d bytes, %d scalars (generated in %.2f s)", corpusBytes, corpus.unicodeScalars.count,
        genSeconds))

// Single thread: best of 3 for count() and encode().
var countTimes: [Double] = [], encodeTimes: [Double] = []
var counted = 0, encodedCount = 0
for _ in 0..<3 {
    let (n, s) = Measure.time { encoding.count(corpus) }
    counted = n; countTimes.append(s)
    let (ids, e) = Measure.time { encoding.encode(corpus) }
    encodedCount = ids.count; encodeTimes.append(e)
}
let singleCount = countTimes.min()!, singleEncode = encodeTimes.min()!
line("tokens: \(counted) (encode agrees: \(counted == encodedCount ? "yes" : "NO, \(encodedCount)"))")
line("single thread: count \(mbps(corpusBytes, singleCount)), encode \(mbps(corpusBytes, singleEncode))")

// Two threads: the corpus split at a newline near the middle, one half per Thread.
let utf8 = Array(corpus.utf8)
var cut = utf8.count / 2
while cut < utf8.count && utf8[cut] != 0x0a { cut += 1 }
let firstHalf = String(decoding: utf8[..<cut], as: UTF8.self)
let secondHalf = String(decoding: utf8[cut...], as: UTF8.self)
var twoTimes: [Double] = []
var twoTotal = 0
for _ in 0..<3 {
    let (counts, wall) = Measure.onThreads([{ encoding.count(firstHalf) }, { encoding.count(secondHalf) }])
    twoTotal = counts.reduce(0, +); twoTimes.append(wall)
}
let twoBest = twoTimes.min()!
// Each half alone on one thread, to judge the two-thread wall time against.
let halfTimes = [firstHalf, secondHalf].map { half in
    (0..<3).map { _ in Measure.time { encoding.count(half) }.1 }.min()!
}
line(
    "two threads: count \(mbps(corpusBytes, twoBest)) (x\(String(format: "%.2f", singleCount / twoBest)) of one thread; "
        + "halves sum to \(twoTotal) tokens; "
        + String(format: "each half alone on one thread: %.0f and %.0f ms)", halfTimes[0] * 1e3, halfTimes[1] * 1e3))

// Latency of a typical 4 KB message: a 4096-byte window of the corpus, cut on a scalar boundary.
var end = 4096
while end > 0 && (utf8[end] & 0xc0) == 0x80 { end -= 1 }
let message = String(decoding: utf8[..<end], as: UTF8.self)
var latencies: [Double] = []
for _ in 0..<2000 { latencies.append(Measure.time { encoding.count(message) }.1) }
var encodeLatencies: [Double] = []
for _ in 0..<500 { encodeLatencies.append(Measure.time { encoding.encode(message) }.1) }
line(
    String(
        format: "4 KB message (%d bytes, %d tokens): count median %.1f µs, p99 %.1f µs; encode median %.1f µs",
        message.utf8.count, encoding.count(message), Measure.median(latencies) * 1e6,
        latencies.sorted()[latencies.count * 99 / 100] * 1e6, Measure.median(encodeLatencies) * 1e6))

// Reference: tiktoken on the same corpus, when installed.
if Tiktoken.isAvailable() {
    if let ref = Tiktoken.measure(corpus, repeats: 3) {
        line(
            "tiktoken (python, encode_ordinary, best of 3): \(mbps(corpusBytes, ref.seconds)), "
                + "\(ref.tokens) tokens (\(ref.tokens == counted ? "same count" : "COUNT DIFFERS"))")
        line(
            String(
                format: "ratio ours/tiktoken: count %.2fx, encode %.2fx (tiktoken import+load %.0f ms)",
                ref.seconds / singleCount, ref.seconds / singleEncode, ref.loadSeconds * 1e3))
    } else {
        line("tiktoken: installed but the run failed (no offline cl100k_base?)")
    }
} else {
    line("tiktoken: not installed, no reference figure")
}

if CommandLine.arguments.contains("--unicode-check") {
    UnicodeCheck.run(encoding)
}
