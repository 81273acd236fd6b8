import CZlib

/// A zlib failure, with zlib's own message when it gave one.
public struct GzipError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Compresses a stream into the gzip format (RFC 1952), a piece at a time.
///
/// Memory stays flat: each piece is compressed into a fixed output buffer that
/// is handed to `sink` whenever it fills, so the caller's writes pace the
/// compression (back-pressure) and nothing accumulates.
public final class GzipCompressor {
    // The z_stream is heap-allocated and never moves: zlib keeps pointers into it between calls.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private var ended = false

    /// `level` 1 (fastest, the default: trace bundles favour speed) to 9 (smallest).
    public init(level: Int32 = 1) throws(GzipError) {
        stream.initialize(to: z_stream())
        // 15 window bits + 16: write a gzip header and trailer rather than a zlib one.
        let status = czlib_deflateInit2(stream, level, 15 + 16)
        guard status == Z_OK else {
            stream.deallocate()
            throw GzipError(description: "deflateInit2 failed (\(status))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Compresses `input`; with `finish`, also flushes and writes the gzip trailer.
    public func compress(
        _ input: UnsafeRawBufferPointer, finish: Bool = false, sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard !ended else { throw GzipError(description: "the stream is already finished") }
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        try output.withUnsafeMutableBytes { out in
            while true {
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                let status = deflate(stream, flush)
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw GzipError(description: "deflate failed (\(status))")
                }
                let produced = out.count - Int(stream.pointee.avail_out)
                if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: out[0..<produced])) }
                if finish {
                    if status == Z_STREAM_END { break }
                } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 {
                    break
                }
            }
        }
        if finish { ended = true }
    }
}

/// Decompresses a gzip stream (one member or several, as `cat a.gz b.gz` makes), a piece at a time.
public final class GzipDecompressor {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    /// Whether the last member ended cleanly (false: the input stopped mid-stream, i.e. truncated).
    public private(set) var atMemberEnd = false

    public init() throws(GzipError) {
        stream.initialize(to: z_stream())
        // 15 window bits + 16: expect a gzip header.
        let status = czlib_inflateInit2(stream, 15 + 16)
        guard status == Z_OK else {
            stream.deallocate()
            throw GzipError(description: "inflateInit2 failed (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Decompresses `input`, handing the output to `sink` a buffer at a time.
    public func decompress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        if input.count > 0 && atMemberEnd {
            // A member ended with the last input: these bytes start another one (`cat a.gz b.gz`).
            inflateReset(stream)
            atMemberEnd = false
        }
        try output.withUnsafeMutableBytes { out in
            while stream.pointee.avail_in > 0 || !atMemberEnd {
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                let status = inflate(stream, Z_NO_FLUSH)
                let produced = out.count - Int(stream.pointee.avail_out)
                if produced > 0 {
                    atMemberEnd = false
                    try sink(UnsafeRawBufferPointer(rebasing: out[0..<produced]))
                }
                switch status {
                case Z_STREAM_END:
                    atMemberEnd = true
                    guard stream.pointee.avail_in > 0 else { return }
                    inflateReset(stream)  // another member follows
                    atMemberEnd = false
                case Z_OK:
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
                case Z_BUF_ERROR:
                    return  // needs more input
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw GzipError(description: "not valid gzip data: \(message)")
                }
            }
        }
    }
}
