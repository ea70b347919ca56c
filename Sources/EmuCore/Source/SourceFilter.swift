import EmuPOSIX
import EmuRecords

/// What never belongs to a snapshot of a source: its `.emu/`, a sink inside
/// it, and what the excludes say. Push leaves these out; checkout and diff
/// leave them alone.
public struct SourceFilter: @unchecked Sendable {
    public var excludes = ExcludeRules()
    /// Directories never entered (by device and inode): the sinks inside the source.
    package var skipped: Set<FileIdentity> = []
    /// `--files-from`: when set, only these paths, what is below them, and
    /// the directories above them.
    package var onlyPaths: [RelativePath]? = nil
    /// `--exclude-caches`: the source's root, to look for `CACHEDIR.TAG` in directories.
    package var cacheTagRoot: DirectoryHandle? = nil

    public init() {}

    /// The source's own rules and every registered sink that lies inside it.
    public init(source: Source, extraExcludes: [String] = []) throws {
        excludes = try source.excludes()
        for rule in extraExcludes {
            do { try excludes.add(rule) } catch { throw EmuError.usage("--exclude '\(rule)': \(error.message)", fix: error.fix) }
        }
        for registration in try source.sinks() {
            if let status = try? DirectoryHandle.open(registration.path).status() { skipped.insert(FileIdentity(status)) }
        }
    }

    /// The source's rules, with a push's own: `--files-from` paths and
    /// `--exclude-caches`.
    public init(source: Source, extraExcludes: [String], onlyPaths: [RelativePath]?, excludeCaches: Bool) throws {
        try self.init(source: source, extraExcludes: extraExcludes)
        self.onlyPaths = onlyPaths
        if excludeCaches { cacheTagRoot = try DirectoryHandle.open(source.path) }
    }

    public func leavesOut(_ path: RelativePath, _ status: FileStatus) -> Bool {
        if path.bytes == Array(Source.metadataName.utf8) { return true }
        if status.kind == .directory, skipped.contains(FileIdentity(status)) { return true }
        if let onlyPaths, !onlyPaths.contains(where: { path.isWithin($0) || $0.isWithin(path) }) { return true }
        if status.kind == .directory, let cacheTagRoot, Self.holdsCacheTag(path, in: cacheTagRoot) { return true }
        return excludes.isExcluded(path, isDirectory: status.kind == .directory)
    }

    /// Whether an inotify event's entry is left out (by name and type alone:
    /// the sinks inside the source and cache tags are not watched at all).
    public func leavesOut(eventAt path: RelativePath, isDirectory: Bool) -> Bool {
        path.bytes == Array(Source.metadataName.utf8) || excludes.isExcluded(path, isDirectory: isDirectory)
    }

    /// Whether the directory holds a `CACHEDIR.TAG` that begins with the
    /// signature of the Cache Directory Tagging Specification.
    package static func holdsCacheTag(_ path: RelativePath, in root: DirectoryHandle) -> Bool {
        guard let directory = try? root.openDirectory(path: path),
              let tag = try? directory.openForReading(FileName("CACHEDIR.TAG")) else { return false }
        defer { tag.close() }
        let signature = Array("Signature: 8a477f597d28d172789f06886806bc55".utf8)
        var buffer = [UInt8](repeating: 0, count: signature.count)
        let count = buffer.withUnsafeMutableBytes { (try? tag.readFully(into: $0, at: 0)) ?? 0 }
        return count == signature.count && buffer == signature
    }
}
