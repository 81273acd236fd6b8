import BrokerProtocol
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

/// A file written under a temporary name, mode 0600, renamed into place only when complete,
/// so an interrupted export never leaves a truncated file that looks finished. `-` is standard output.
final class OutputFile {
    let path: String
    private let temporary: String?
    private let descriptor: Int32
    private var committed = false

    init(_ path: String) throws {
        self.path = path
        if path == "-" {
            temporary = nil
            descriptor = STDOUT_FILENO
            return
        }
        let temporary = path + ".partial-\(getpid())"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw UsageError("cannot write \(path): \(String(cString: strerror(errno)))") }
        self.temporary = temporary
    }

    deinit {
        if let temporary, !committed {
            close(descriptor)
            unlink(temporary)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw UsageError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Flushes to disk and gives the file its name.
    func commit() throws {
        guard let temporary else { return }
        fsync(descriptor)
        close(descriptor)
        committed = true
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw UsageError("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Reads a file a block at a time.
final class InputFile {
    let path: String
    private let descriptor: Int32
    let size: Int64
    /// Bytes read so far.
    private(set) var consumed: Int64 = 0

    init(_ path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        size = fstat(descriptor, &info) == 0 ? Int64(info.st_size) : 0
    }

    deinit { close(descriptor) }

    /// Up to `count` bytes; empty at the end of the file.
    func read(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, count) }
        guard n >= 0 else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
        bytes.removeLast(count - n)
        consumed += Int64(n)
        return bytes
    }
}

/// Cuts a byte stream into pieces that end on whole UTF-8 characters, so each is a valid JSON string.
struct UTF8Pieces {
    private var carry: [UInt8] = []
    /// Bytes handed out so far (for a problem's position).
    private(set) var offset: Int64 = 0

    /// The complete characters of `carry + bytes`; an incomplete last character waits for the next call.
    mutating func next(_ bytes: [UInt8], final: Bool) throws -> [UInt8] {
        var all = carry + bytes
        var cut = all.count
        if !final {
            // Step back over continuation bytes (10xxxxxx) to the start of the last character, then keep
            // that character only if it is complete.
            var start = all.count
            while start > 0 && start > all.count - 4 && all[start - 1] & 0xC0 == 0x80 { start -= 1 }
            if start > 0 {
                let lead = all[start - 1]
                let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
                if all.count - (start - 1) < length { cut = start - 1 }
            }
        }
        carry = Array(all[cut...])
        all.removeLast(all.count - cut)
        let valid = all.withUnsafeBufferPointer { UTF8Validation.isValid($0) }
        guard valid else { throw UsageError("the file is not valid UTF-8 text (near byte \(offset))") }
        offset += Int64(all.count)
        return all
    }
}

/// A one-line progress bar on standard error, drawn only when it is a terminal.
struct ProgressBar {
    let enabled: Bool
    let total: Int64
    let unit: String
    private var lastDrawn: Int64 = -1

    init(total: Int64, unit: String, quiet: Bool) {
        enabled = !quiet && isatty(STDERR_FILENO) == 1 && total > 0
        self.total = total
        self.unit = unit
    }

    mutating func update(_ done: Int64, bytes: Int64) {
        guard enabled else { return }
        let percent = min(100, done * 100 / max(total, 1))
        guard percent != lastDrawn else { return }
        lastDrawn = percent
        let filled = Int(percent * 30 / 100)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        writeError("\r[\(bar)] \(percent)% \(done)/\(total) \(unit), \(Format.bytes(bytes))")
    }

    func finish() {
        if enabled { writeError("\r\u{1B}[K") }
    }
}

/// Figures for people.
enum Format {
    static func bytes(_ count: Int64) -> String {
        if count < 1024 { return "\(count) B" }
        if count < 1 << 20 { return "\(count / 1024) KiB" }
        return "\(count >> 20).\((count & ((1 << 20) - 1)) * 10 >> 20) MiB"
    }

    static func seconds(_ millis: Int64) -> String { "\(millis / 1000).\(millis % 1000 / 100) s" }
}
