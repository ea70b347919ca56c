import EmuPOSIX
import Glibc
import EmuRecords

/// A sink as the source knows it: a name and the sink's absolute path,
/// one line in `SOURCE/.emu/sinks/NAME`.
public struct SinkRegistration: Sendable, Equatable {
    public var name: String
    public var path: String

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

/// The directory being backed up, with its settings in `.emu/`.
public final class Source {
    public static let metadataName = ".emu"

    /// Absolute and symlink-free.
    public let path: String
    package let metadata: DirectoryHandle
    /// A sink an administrator names by its path where no source is (on a
    /// server): the one sink the reading and pruning commands see; nothing
    /// of a source is read or written (see `alone(sinkAt:)`).
    public internal(set) var sinkAlone: SinkRegistration? = nil

    package init(path: String, sinkMetadata: String? = nil) throws {
        self.path = path
        do {
            metadata = try DirectoryHandle.open(sinkMetadata ?? path + "/" + Self.metadataName)
        } catch let error as FileSystemError {
            throw EmuError.failed("cannot open the source's settings: \(error)", fix: "run `emu init` in \(path)")
        }
    }

    /// Finds the source as git finds a repository: `explicit` (-S) if given,
    /// else the nearest directory at or above the working directory that
    /// holds `.emu/`.
    public static func locate(explicit: String?) throws -> Source {
        if let explicit {
            guard let resolved = resolvedPath(explicit) else {
                throw EmuError.usage("the source directory \(explicit) does not exist", fix: "check the path given with -S")
            }
            guard isDirectory(resolved + "/" + metadataName) else {
                throw EmuError.usage("\(resolved) is not an emu source (it has no .emu/)", fix: "run `emu init -S \(explicit)` first")
            }
            return try Source(path: resolved)
        }
        guard var directory = resolvedPath(".") else {
            throw EmuError.failed("the working directory cannot be read")
        }
        while true {
            if isDirectory(directory + "/" + metadataName) { return try Source(path: directory) }
            if directory == "/" { break }
            directory = parentPath(directory)
        }
        throw EmuError.usage("not inside an emu source (no .emu/ here or in any parent)",
                             fix: "run `emu init` in the directory to back up, or pass -S DIR")
    }

    // MARK: Settings

    public func config() throws -> INIDocument {
        if sinkAlone != nil { return INIDocument() }
        guard let text = try MetadataFile.read(in: metadata, "config") else { return INIDocument() }
        do { return try INIDocument(parsing: text) } catch {
            throw EmuError.failed("\(path)/.emu/config: \(error.message)", fix: "correct the file, or run `emu init -f` to restore defaults")
        }
    }

    public func writeConfig(_ document: INIDocument) throws {
        try requireSource()
        try MetadataFile.write(in: metadata, "config", document.text)
    }

    /// The rules of `.emu/excludes` (none when the file is missing).
    public func excludes() throws -> ExcludeRules {
        try requireSource()
        guard let text = try MetadataFile.read(in: metadata, "excludes") else { return ExcludeRules() }
        return try ExcludeRules(parsing: text, origin: "\(path)/.emu/excludes")
    }

    // MARK: Sinks

    package func sinksDirectory() throws -> DirectoryHandle {
        try requireSource()
        do { return try metadata.openDirectory(FileName("sinks")) } catch let error as FileSystemError where error.isMissing {
            try metadata.makeDirectory(FileName("sinks"), permissions: 0o755)
            return try metadata.openDirectory(FileName("sinks"))
        }
    }

    /// Every registered sink, sorted by name.
    public func sinks() throws -> [SinkRegistration] {
        if let sinkAlone { return [sinkAlone] }
        let directory = try sinksDirectory()
        var result: [SinkRegistration] = []
        for entry in try directory.entries() {
            guard let name = String(validating: entry.name.bytes, as: UTF8.self), SinkName.isValid(name),
                  let text = try MetadataFile.read(in: directory, name)
            else { continue }
            let line = text.split(separator: "\n").first.map(String.init) ?? ""
            guard !line.isEmpty else { continue }
            result.append(SinkRegistration(name: name, path: line))
        }
        return result.sorted { $0.name < $1.name }
    }

    /// The sink called `name`; a usage error naming the known ones otherwise.
    public func sink(named name: String) throws -> SinkRegistration {
        let all = try sinks()
        if let found = all.first(where: { $0.name == name }) { return found }
        let known = all.isEmpty ? "no sinks are registered" : "known sinks: " + all.map(\.name).joined(separator: ", ")
        throw EmuError.usage("unknown sink '\(name)' (\(known))", fix: "add it with `emu sink add \(name) PATH`")
    }

    /// The one set with `emu sink default`, else the only sink, else the
    /// first. A default that names no registered sink is an error, never a
    /// reason to act on another sink.
    public func defaultSink() throws -> SinkRegistration {
        let all = try sinks()
        if let name = try config()["emu", "default-sink"] {
            guard let found = all.first(where: { $0.name == name }) else {
                throw EmuError.usage("the default sink '\(name)' (emu.default-sink) is not a registered sink",
                                     fix: "choose one with `emu sink default NAME`, or register it with `emu sink add \(name) PATH`")
            }
            return found
        }
        if all.count == 1 { return all[0] }
        guard let first = all.first else {
            throw EmuError.usage("this source has no sinks", fix: "add one with `emu sink add NAME PATH`")
        }
        return first
    }

    public func register(_ sink: SinkRegistration) throws {
        try MetadataFile.write(in: try sinksDirectory(), sink.name, sink.path + "\n")
        var document = try config()
        if document["emu", "default-sink"] == nil {
            document["emu", "default-sink"] = sink.name
            try writeConfig(document)
        }
    }

    public func unregister(_ name: String) throws {
        _ = try sink(named: name)
        try sinksDirectory().remove(FileName(name))
        var document = try config()
        if document["emu", "default-sink"] == name {
            document["emu", "default-sink"] = try sinks().first?.name
        }
        // How it was reached goes with it (sink.NAME.ssh-command, sink.NAME.remote-emu).
        document.removeSection("sink.\(name)")
        try writeConfig(document)
    }

    public func setDefaultSink(_ name: String) throws {
        _ = try sink(named: name)
        var document = try config()
        document["emu", "default-sink"] = name
        try writeConfig(document)
    }

    /// Locks the source: shared while a push reads it, exclusive while a
    /// checkout writes it.
    public func lock(_ mode: FileLock.Mode, wait: Double) throws -> FileLock {
        try requireSource()
        guard let lock = try FileLock.acquire(in: metadata, name: FileName("lock"), mode: mode, wait: wait) else {
            throw EmuError(.locked, "the source \(path) is locked by another running emu",
                           fix: "wait for it to finish, or pass --lock-wait SECONDS")
        }
        return lock
    }
}

/// Sink names: letters, digits, `.`, `_`, `-`; not a snapshot keyword.
public enum SinkName {
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first) else { return false }
        return !["HEAD", "TAIL"].contains(name) && name.count <= 64
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
    }
}

extension Source {
    /// This source's identity (see `SourceIdentity`).
    public func identity() throws -> String {
        try requireSource()
        return try SourceIdentity.ensure(in: metadata, sourcePath: path)
    }
}
