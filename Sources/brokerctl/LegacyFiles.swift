import BrokerProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// The few file-system calls the legacy import needs, on Glibc (brokerctl does not link Foundation).
enum LegacyFiles {
    /// What a path names, without following a symbolic link.
    enum Kind {
        case directory, regularFile, other, missing
    }

    static func kind(_ path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regularFile
        default: return .other
        }
    }

    /// The names in a directory, sorted by their bytes so reports come out in the same order every run.
    static func entries(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The absolute, symlink-free form of `path`, or nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The last component of a path ("" for "/").
    static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? ""
    }

    /// Makes the directories `components` below the existing directory `base`, each with mode 0700 (the
    /// backups hold people's conversations). Directories that already exist keep their mode.
    static func makeDirectories(base: String, _ components: [String]) throws(LegacyFileError) {
        var current = base
        for component in components {
            current += "/" + component
            if mkdir(current, 0o700) == 0 {
                chmod(current, 0o700)  // the umask may have taken bits off; set exactly 0700
                continue
            }
            let reason = ProcessIO.lastErrorMessage
            if errno != EEXIST || kind(current) != .directory {
                throw LegacyFileError("cannot create directory \(current): \(reason)")
            }
        }
    }

    /// Writes `bytes` to a new file at `path` with mode 0600; fails if the path exists.
    /// The data is flushed to disk before returning, so a backup that exists is complete.
    static func createFile(_ path: String, _ bytes: [UInt8]) throws(LegacyFileError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LegacyFileError("cannot create \(path): \(ProcessIO.lastErrorMessage)") }
        defer { close(descriptor) }
        fchmod(descriptor, 0o600)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw LegacyFileError("cannot write \(path): \(ProcessIO.lastErrorMessage)") }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            throw LegacyFileError("cannot flush \(path): \(ProcessIO.lastErrorMessage)")
        }
    }

    /// Gives the complete file at `from` the new name `to` without replacing anything there: false when `to`
    /// exists. A hard link is atomic and, unlike rename, refuses an existing target.
    static func linkNew(from: String, to: String) throws(LegacyFileError) -> Bool {
        if link(from, to) == 0 { return true }
        if errno == EEXIST { return false }
        throw LegacyFileError("cannot create \(to): \(ProcessIO.lastErrorMessage)")
    }

    static func remove(_ path: String) {
        unlink(path)
    }
}

/// A file-system call that failed, with the path and the system's reason.
struct LegacyFileError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
