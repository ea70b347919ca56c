import EmuPOSIX
import EmuRecords

/// Making a sink: where it may go, its directories, the proof that its
/// filesystem hardlinks.
extension Sink {
    /// What making a sink at a path would do: attach to the sink already
    /// there, or make one, creating these directories first (outermost first).
    public enum Creation: Equatable, Sendable {
        case attach
        case create(directories: [String])
    }

    /// What `create(at:)` would do at `path`, refusing a path that is not a
    /// directory and a non-empty directory that is not a sink (a mistyped
    /// mount point must not become a sink) unless `force`.
    public static func plannedCreation(at path: String, force: Bool) throws -> Creation {
        if isDirectory(path + "/.emu/nodes") { return .attach }
        if isDirectory(path) {
            let entries = try DirectoryHandle.open(path).entries().filter { $0.name.bytes != Array(".emu".utf8) }
            if !entries.isEmpty && !force {
                throw EmuError.usage("\(path.quotedForDisplay) is not empty and is not an emu sink",
                                     fix: "check the path (is the disk mounted?), or pass --force to make a sink beside what it holds")
            }
            return .create(directories: [])
        }
        if entryExists(path) {
            throw EmuError.usage("\(path.quotedForDisplay) exists and is not a directory", fix: "choose a directory for the sink")
        }
        var missing: [String] = []
        var directory = path
        while !isDirectory(directory) && directory != "/" {
            missing.insert(directory, at: 0)
            directory = parentPath(directory)
        }
        return .create(directories: missing)
    }

    /// Makes a sink at `path` (and the directory, if missing); attaches to an
    /// existing sink instead. Refuses a filesystem that cannot hardlink.
    /// Returns whether a new sink was made.
    public static func create(at path: String) throws -> Bool {
        if isDirectory(path + "/.emu/nodes") { return false }
        // Owner only, as rsnapshot advises for its root: a sink holds other users' files, and a client's
        // device nodes and setuid files, which no local user may reach through it.
        do { try makeDirectories(path, permissions: 0o700) } catch let error as FileSystemError {
            throw EmuError(error, fix: "check that its parent exists and is writable")
        }
        let root = try DirectoryHandle.open(path)
        try checkHardlinks(in: root)
        if (try? root.status(SinkLayout.metadata)) == nil { try root.makeDirectory(SinkLayout.metadata, permissions: 0o700) }
        let metadata = try root.openDirectory(SinkLayout.metadata)
        try makeRequiredDirectories(in: metadata)
        if try MetadataFile.read(in: metadata, SinkLayout.config) == nil {
            var config = INIDocument()
            config["Snapshots", "checksum"] = "sha256"
            config["Snapshots", "format"] = "1"
            try MetadataFile.write(in: metadata, SinkLayout.config, config.text)
        }
        if try MetadataFile.read(in: metadata, SinkLayout.head) == nil {
            try MetadataFile.write(in: metadata, SinkLayout.head, "")
        }
        try root.sync()
        return true
    }

    /// Links a probe file to prove the filesystem can hardlink (FAT, exFAT
    /// and some network mounts cannot: every snapshot would be a full copy).
    package static func checkHardlinks(in root: DirectoryHandle) throws {
        let probe = FileName(".emu-link-probe"), probeLink = FileName(".emu-link-probe.2")
        try? root.remove(probe)
        try? root.remove(probeLink)
        try root.createFile(probe).close()
        defer {
            try? root.remove(probe)
            try? root.remove(probeLink)
        }
        do {
            try root.link(probe, to: root, as: probeLink)
        } catch let error as FileSystemError {
            throw EmuError.failed("the filesystem at \(Printable.path(root.path)) cannot hardlink (\(error.errno)), so every snapshot would be a full copy",
                                  fix: "put the sink on a filesystem with hardlinks (ext4, xfs, btrfs, NFS with hardlinks)")
        }
    }
}
