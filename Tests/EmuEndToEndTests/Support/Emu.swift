import EmuPOSIX
import Foundation
import Glibc
import Testing

/// What one run of the emu binary did.
struct Run {
    var status: Int32
    var killed: Bool
    var stdout: String
    var stderr: String
}

/// Runs the built `emu` binary, as a user would.
enum EmuBinary {
    static let path: String = {
        if let explicit = ProcessInfo.processInfo.environment["EMU_BIN"] { return explicit }
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        return runner.appendingPathComponent("emu").path
    }()

    /// Runs `emu ARGS` in `directory`, optionally as the unprivileged user
    /// nobody (setpriv drops root's power to read everything).
    @discardableResult
    static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:], asNobody: Bool = false,
                    throughBash script: String? = nil) throws -> Run {
        let process = Process()
        if let script {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", script]
        } else if asNobody {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", path] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env["EMU"] = path
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("emu-out-\(UUID().uuidString)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("emu-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Run(status: process.terminationStatus,
                   killed: process.terminationReason == .uncaughtSignal,
                   stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                   stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }
}

/// A source with its `.emu/` and one sink, in a fresh temporary directory.
final class Workspace {
    let root: String
    let source: String
    let sink: String

    init(_ label: String = "emu-e2e", sinkPath: String? = nil) throws {
        var template = Array("/tmp/\(label).XXXXXX".utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        source = root + "/source"
        sink = sinkPath ?? root + "/sink"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    }

    deinit {
        if ProcessInfo.processInfo.environment["EMU_KEEP_TEST_DIRS"] != nil {
            print("kept \(root)")
        } else {
            sh("chmod -R u+rwx '\(root)' 2>/dev/null; rm -rf '\(root)'")
        }
    }

    /// `emu init` and `emu sink add origin SINK`, both required to succeed.
    func initialize() throws -> Workspace {
        try expectSuccess(emu("init"))
        try expectSuccess(emu("sink", "add", "origin", sink))
        return self
    }

    /// Where emu keeps its caches for this workspace's commands (a remote sink's records).
    var cacheHome: String { root + "/cache" }

    @discardableResult
    func emu(_ arguments: String..., environment: [String: String] = [:], asNobody: Bool = false) throws -> Run {
        try EmuBinary.run(arguments, in: source, environment: withCacheHome(environment), asNobody: asNobody)
    }

    func emu(arguments: [String], environment: [String: String] = [:]) throws -> Run {
        try EmuBinary.run(arguments, in: source, environment: withCacheHome(environment))
    }

    func withCacheHome(_ environment: [String: String]) -> [String: String] {
        environment.merging(["XDG_CACHE_HOME": cacheHome]) { given, _ in given }
    }

    /// Runs a bash script in the source, with `$EMU` the binary: for
    /// arguments a `Process` cannot pass, such as bytes that are not UTF-8
    /// (`"$EMU" show "HEAD:$(printf 'caf\\351')"`).
    func bash(_ script: String, environment: [String: String] = [:]) throws -> Run {
        try EmuBinary.run([], in: source, environment: withCacheHome(environment), throughBash: script)
    }

    /// Runs the commands a failure's `fix:` line gives in backquotes, as a
    /// user would paste them (`emu` is the binary under test); the runs, in
    /// the order given. A fix line that names no command gives none.
    func runFixes(of failed: Run, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Run] {
        let commands = suggestedCommands(failed.stderr)
        #expect(!commands.isEmpty, "no command in the fix line: \(failed.stderr)", sourceLocation: sourceLocation)
        return try commands.map { try bash("emu() { \"$EMU\" \"$@\"; }; " + $0) }
    }

    /// The snapshots `emu log --json ARGS` lists, newest first.
    func loggedSnapshots(_ arguments: String...) throws -> [[String: Any]] {
        try loggedSnapshots(arguments: arguments)
    }

    func loggedSnapshots(arguments: [String]) throws -> [[String: Any]] {
        let run = try emu(arguments: ["log", "--json"] + arguments)
        try expectSuccess(run)
        let document = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        return try #require(document?["snapshots"] as? [[String: Any]], "log --json: \(run.stdout)")
    }

    func expectSuccess(_ run: Run, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(run.status == 0, "emu failed: \(run.stderr)", sourceLocation: sourceLocation)
        if run.status != 0 { throw WorkspaceError.commandFailed(run.stderr) }
    }

    /// The snapshot trees of sink `name` (the default sink unless given),
    /// oldest first, as its own log lists them; `path` is where the sink
    /// lies (the workspace's own sink unless given).
    func trees(of name: String? = nil, at path: String? = nil) throws -> [String] {
        let snapshots = try loggedSnapshots(arguments: name.map { [$0] } ?? [])
        let ids = snapshots.compactMap { $0["id"] as? String }
        #expect(ids.count == snapshots.count, "log --json: a snapshot without an id")
        return ids.reversed().map { (path ?? sink) + "/.emu/trees/" + $0 }
    }
}

/// The `emu ...` commands in backquotes on the `fix:` lines of `stderr`.
func suggestedCommands(_ stderr: String) -> [String] {
    let fixes = stderr.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("fix:") }
    return fixes.flatMap { line in
        line.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 && $0.element.hasPrefix("emu ") }.map { String($0.element) }
    }
}

enum WorkspaceError: Error { case commandFailed(String) }

/// Runs a shell command for a test's setup; a failure is the test's failure
/// (a setup that did not happen proves nothing) unless `mayFail`, for commands
/// whose status is the point or that may find nothing to do. Returns the status.
@discardableResult
func sh(_ command: String, mayFail: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    process.standardOutput = FileHandle.nullDevice
    do { try process.run() } catch {
        Issue.record("cannot run /bin/sh: \(error)", sourceLocation: sourceLocation)
        return -1
    }
    process.waitUntilExit()
    if !mayFail && process.terminationStatus != 0 {
        Issue.record("setup command failed with status \(process.terminationStatus): \(command)", sourceLocation: sourceLocation)
    }
    return process.terminationStatus
}

/// Shell functions for tests that read or edit a manifest's text (a sink
/// keeps it as a list of zstd chunks, see `ChunkedManifest`): `manifest_text
/// M` prints it; `unchunk M` rewrites M as its text, which emu reads as a
/// manifest written whole, as emu before 0.3 wrote them.
let manifestShell = #"""
    manifest_text() { c="$(dirname "$(dirname "$1")")/chunks"; tail -n +2 "$1" | while read -r h n; do zstd -qdc "$c/$(printf %.2s "$h")/$h" || return 1; done; }
    unchunk() { chmod u+w "$1" && manifest_text "$1" > "$1.text" && mv "$1.text" "$1"; }

    """#

func inode(_ path: String) -> UInt64? {
    var st = stat()
    return lstat(path, &st) == 0 ? UInt64(st.st_ino) : nil
}
