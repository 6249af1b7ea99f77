import Foundation

/// Every file Recur writes goes through here: one throwing path, with errors that name the
/// file and say what is wrong in words (no "NSCocoaErrorDomain error 512").
public enum AtomicFile {
    /// Writes atomically and durably: a temporary file in the same folder, written and
    /// fsynced, then renamed over `path`, then the folder fsynced. A crash or kill at any point
    /// leaves either the old file or the new one, never a partial file under `path`. The
    /// temporary file is removed on every error; ones left by a killed process (whose PID is
    /// gone) are removed by the next write of the same file.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        removeStaleTemporaries(of: url)
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw failure(path, errno: errno) }
        let written = data.withUnsafeBytes { raw -> Int32 in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; return errno }
                done += n
            }
            return fsync(fd) == 0 ? 0 : errno
        }
        let closed = close(fd) == 0 ? 0 : errno
        let error = written != 0 ? written : closed != 0 ? closed : rename(temporary, path) == 0 ? 0 : errno
        guard error == 0 else {
            unlink(temporary)
            throw failure(path, errno: error)
        }
        let dirFD = open(folder, O_RDONLY)
        if dirFD >= 0 {
            _ = fsync(dirFD)  // makes the rename itself durable
            close(dirFD)
        }
    }

    /// An error for `path` that says what is wrong, from `errno` and the path itself.
    public static func failure(_ path: String, errno code: Int32) -> RecurError {
        RecurError("cannot write \(path): \(explain(path, errno: code))", fix: "choose a writable path with free space")
    }

    /// "/a/b is a file, not a folder", "no space left on the device", ...
    public static func explain(_ path: String, errno code: Int32) -> String {
        var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
        var isFolder: ObjCBool = false
        while ancestor.path != "/" && !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder) {
            ancestor.deleteLastPathComponent()
        }
        if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder), !isFolder.boolValue {
            return "\(ancestor.path) is a file, not a folder"
        }
        switch code {
        case ENOSPC, EDQUOT: return "no space left on the device"
        case EACCES, EPERM: return "permission denied"
        case ENOENT:
            let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
            return FileManager.default.fileExists(atPath: parent) ? "\(parent) does not accept new files" : "the folder \(parent) does not exist"
        case EROFS: return "the file system is read-only"
        case EISDIR: return "it is a folder"
        default: return String(cString: strerror(code))
        }
    }

    /// Removes `.NAME.tmp-PID` files beside `url` whose process no longer runs.
    static func removeStaleTemporaries(of url: URL) {
        let folder = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder + "/" + name) }
        }
    }

    /// Creates a folder and its parents; errors say why not.
    public static func createFolder(_ path: String) throws {
        guard !path.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RecurError("the folder name is empty", fix: "give a folder, e.g. runs/first")
        }
        var current = ""
        for component in URL(fileURLWithPath: path).standardized.pathComponents {
            current = current.isEmpty || current == "/" ? current + component : current + "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw RecurError("cannot create the folder \(path): \(explain(current, errno: errno))", fix: "choose a writable path")
            }
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw RecurError("cannot create the folder \(path): \(explain(path + "/x", errno: ENOTDIR))", fix: "choose a writable path")
        }
    }
}

/// An open file that appends lines (e.g. metrics.jsonl); a failed write throws with the
/// file's name and the reason.
public final class AppendingFile: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    /// Opens `path` empty, or with `keeping` its lines (a resumed run's log goes on).
    public init(creating path: String, keeping: Bool = false) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | (keeping ? 0 : O_TRUNC), 0o644)
        guard fd >= 0 else { throw AtomicFile.failure(path, errno: errno) }
    }

    public func append(_ text: String) throws {
        let data = Array(text.utf8)
        var done = 0
        while done < data.count {
            let n = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, data.count - done) }
            if n < 0 { if errno == EINTR { continue }; throw AtomicFile.failure(path, errno: errno) }
            done += n
        }
    }

    deinit { close(fd) }
}
