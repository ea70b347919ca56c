import EmuPOSIX
import Glibc

/// The template folder `emu init` copies into `SOURCE/.emu/`.
public enum Templates {
    /// `explicit` (--template-dir), else $EMU_TEMPLATE_DIR, else the installed
    /// `PREFIX/share/emu/templates` beside the binary, else the source tree's
    /// `share/emu/templates` when emu runs from its build folder.
    public static func locate(explicit: String?) throws -> String {
        if let explicit {
            guard isDirectory(explicit) else {
                throw EmuError.usage("the template directory \(explicit) does not exist", fix: "pass an existing directory to --template-dir")
            }
            return explicit
        }
        if let variable = getenv("EMU_TEMPLATE_DIR").map({ String(cString: $0) }), isDirectory(variable) { return variable }
        let executable = resolvedPath("/proc/self/exe") ?? ""
        var directory = parentPath(executable)
        for _ in 0..<5 {
            let candidate = directory + "/share/emu/templates"
            if isDirectory(candidate) { return candidate }
            directory = parentPath(directory)
        }
        throw EmuError.failed("cannot find emu's templates (share/emu/templates)",
                              fix: "reinstall emu (make install), or pass --template-dir DIR")
    }
}

/// What `emu init` did.
public struct InitReport: Sendable {
    public var path: String
    public var created: Bool
    /// Files copied from the templates (missing ones, or all with force).
    public var written: [String]
}

/// Makes or repairs `.emu/` in `directory` from `templates`: missing files are
/// copied, present ones kept; `force` restores every template file to its
/// default. Registered sinks are never touched.
public func initializeSource(at directory: String, templates: String, force: Bool, dryRun: Bool = false) throws -> InitReport {
    guard let root = resolvedPath(directory), isDirectory(root) else {
        throw EmuError.usage("\(directory) is not a directory", fix: "create it first, or pass -S DIR")
    }
    let metadataPath = root + "/" + Source.metadataName
    let created = !isDirectory(metadataPath)
    var written: [String] = []
    if dryRun {
        try plannedTemplates(from: try DirectoryHandle.open(templates), existing: metadataPath, relative: "", force: force, written: &written)
        return InitReport(path: root, created: created, written: written)
    }
    for sub in ["", "/sinks", "/hooks"] where !isDirectory(metadataPath + sub) {
        guard (metadataPath + sub).fileSystemBytes.withCString({ mkdir($0, 0o755) }) == 0 else {
            throw EmuError.failed("cannot create \(metadataPath + sub): \(String(cString: strerror(errno)))",
                                  fix: "check that you may write to \(root)")
        }
    }
    let destination = try DirectoryHandle.open(metadataPath)
    try copyTemplates(from: try DirectoryHandle.open(templates), to: destination, relative: "", force: force, written: &written)
    return InitReport(path: root, created: created, written: written)
}

/// The template files `copyTemplates` would write, without writing them.
private func plannedTemplates(from source: DirectoryHandle, existing: String, relative: String, force: Bool, written: inout [String]) throws {
    for entry in try source.entries().sorted(by: { $0.name < $1.name }) {
        let name = relative + entry.name.description
        let status = try source.status(entry.name)
        if status.kind == .directory {
            try plannedTemplates(from: try source.openDirectory(entry.name), existing: existing, relative: name + "/", force: force, written: &written)
        } else if status.kind == .regular, force || resolvedPath(existing + "/" + name) == nil {
            written.append(name)
        }
    }
}

private func copyTemplates(from source: DirectoryHandle, to destination: DirectoryHandle, relative: String, force: Bool, written: inout [String]) throws {
    for entry in try source.entries().sorted(by: { $0.name < $1.name }) {
        let status = try source.status(entry.name)
        let name = relative + entry.name.description
        if status.kind == .directory {
            if (try? destination.status(entry.name)) == nil { try destination.makeDirectory(entry.name, permissions: 0o755) }
            try copyTemplates(from: try source.openDirectory(entry.name), to: try destination.openDirectory(entry.name),
                              relative: name + "/", force: force, written: &written)
        } else if status.kind == .regular {
            if !force, (try? destination.status(entry.name)) != nil { continue }
            let input = try source.openForReading(entry.name)
            defer { input.closeIgnoringErrors() }
            let text = String(decoding: try input.readToEnd(path: source.childPath(entry.name)), as: UTF8.self)
            try MetadataFile.write(in: destination, entry.name.description, text, permissions: status.permissions & 0o777)
            try destination.setPermissions(entry.name, status.permissions & 0o777)
            written.append(name)
        }
    }
}

/// Deletes snapshots from a sink: each disappears in one rename, and HEAD
/// moves to the newest that remains. Returns what was (or would be) deleted.
public func prune(_ doomed: [Snapshot], in sink: Sink, dryRun: Bool, lockWait: Double, each: (Snapshot) -> Void) throws {
    try sink.lock(dryRun ? .shared : .exclusive, wait: lockWait)
    defer { sink.unlock() }
    if !dryRun { try sink.recover() }
    let existing = Set(try sink.snapshots().map(\.id))
    for snapshot in doomed where existing.contains(snapshot.id) {
        if !dryRun { try sink.delete(snapshot) }
        each(snapshot)
    }
    if !dryRun { try sink.finishDeleting() }
}
