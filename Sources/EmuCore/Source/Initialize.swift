import EmuPOSIX
import Glibc
import EmuRecords

/// One file `emu init` writes into `SOURCE/.emu/`: its path there, mode and text.
public struct TemplateFile: Sendable, Equatable {
    public var path: String
    public var permissions: UInt32
    public var text: String
}

/// The templates `emu init` copies into `SOURCE/.emu/`.
public enum Templates {
    /// `explicit` (--template-dir), else $EMU_TEMPLATE_DIR, else an installed
    /// `PREFIX/share/emu/templates` beside the binary (or the source tree's
    /// when emu runs from its build folder), which overrides the defaults;
    /// else the defaults built into the binary, so that a copied binary works.
    public static func load(explicit: String?) throws -> [TemplateFile] {
        if let explicit {
            guard isDirectory(explicit) else {
                throw EmuError.usage("the template directory \(explicit.quotedForDisplay) does not exist", fix: "pass an existing directory to --template-dir")
            }
            return try read(explicit)
        }
        if let variable = getenv("EMU_TEMPLATE_DIR").map({ String(cString: $0) }), isDirectory(variable) { return try read(variable) }
        var directory = parentPath(resolvedPath("/proc/self/exe") ?? "/")
        for _ in 0..<5 {
            let candidate = directory + "/share/emu/templates"
            if isDirectory(candidate) { return try read(candidate) }
            directory = parentPath(directory)
        }
        return builtIn
    }

    /// The regular files below `directory`, sorted by path.
    package static func read(_ directory: String) throws -> [TemplateFile] {
        var files: [TemplateFile] = []
        func visit(_ handle: DirectoryHandle, _ relative: String) throws {
            for entry in try handle.entries() {
                let status = try handle.status(entry.name)
                let path = relative + String(fileSystemBytes: entry.name.bytes)
                if status.kind == .directory {
                    try visit(try handle.openDirectory(entry.name), path + "/")
                } else if status.kind == .regular {
                    let input = try handle.openForReading(entry.name)
                    defer { input.close() }
                    let text = String(fileSystemBytes: try input.readToEnd())
                    files.append(TemplateFile(path: path, permissions: status.permissions & 0o777, text: text))
                }
            }
        }
        try visit(try DirectoryHandle.open(directory), "")
        return files.sorted { $0.path < $1.path }
    }
}

/// What `emu init` did.
public struct InitReport: Sendable {
    public var path: String
    public var created: Bool
    /// Files copied from the templates: missing ones, and with force those
    /// that did not parse (in `replaced`, with why).
    public var written: [String]
    /// With force: the files replaced by their templates, and why (the user's text did not parse).
    public var replaced: [(path: String, why: String)] = []
}

/// Makes or repairs `.emu/` in `directory` from `templates`: missing files are
/// copied, present ones kept; `force` also replaces a settings file that does
/// not parse (config, excludes), never one that does: the default sink,
/// remote settings and the user's rules stay. Registered sinks are never touched.
public func initializeSource(at directory: String, templates: [TemplateFile], force: Bool, dryRun: Bool = false) throws -> InitReport {
    guard let root = resolvedPath(directory), isDirectory(root) else {
        throw EmuError.usage("\(directory.quotedForDisplay) is not a directory", fix: "create it first, or pass -S DIR")
    }
    let metadataPath = root + "/" + Source.metadataName
    let created = !isDirectory(metadataPath)
    let replaced = force ? templates.compactMap { file in brokenReason(of: file, in: metadataPath).map { (file.path, $0) } } : []
    let wanted = templates.filter { file in resolvedPath(metadataPath + "/" + file.path) == nil || replaced.contains { $0.0 == file.path } }
    var report = InitReport(path: root, created: created, written: wanted.map(\.path))
    report.replaced = replaced
    if dryRun { return report }
    for sub in ["", "/sinks", "/hooks"] where !isDirectory(metadataPath + sub) {
        do { try makeDirectory(metadataPath + sub) } catch let error as FileSystemError {
            throw EmuError(error, fix: "check that you may write to \(root.quotedForDisplay)")
        }
    }
    let destination = try DirectoryHandle.open(metadataPath)
    _ = try SourceIdentity.ensure(in: destination, sourcePath: root)
    for file in wanted {
        var directory = destination
        let components = file.path.split(separator: "/").map(String.init)
        for component in components.dropLast() {
            if (try? directory.status(FileName(component))) == nil { try directory.makeDirectory(FileName(component), permissions: 0o755) }
            directory = try directory.openDirectory(FileName(component))
        }
        try MetadataFile.write(in: directory, components.last!, file.text, permissions: file.permissions)
        try directory.setPermissions(FileName(components.last!), file.permissions)
    }
    return report
}

/// Why the user's copy of a settings file must be replaced: what its parser
/// says; nil when it parses (or is not there, or is no settings file).
func brokenReason(of file: TemplateFile, in metadataPath: String) -> String? {
    guard ["config", "excludes"].contains(file.path), let bytes = try? readUserFile(metadataPath + "/" + file.path) else { return nil }
    let text = String(fileSystemBytes: bytes)
    do throws(EmuError) {
        if file.path == "config" { _ = try INIDocument(parsing: text) } else { _ = try ExcludeRules(parsing: text, origin: ".emu/excludes") }
        return nil
    } catch {
        return error.message
    }
}
