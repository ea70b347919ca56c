import CEmuShims
import EmuPOSIX
import Glibc
import EmuRecords

/// The programs a user hangs on a command: executables in
/// `SOURCE/.emu/hooks/COMMAND/` named `*.pre` (before; a non-zero exit
/// cancels), `*.post` (after success) and `*.error` (after a failure), run in
/// name order in the source directory with `EMU_*` variables set.
/// Anything else there (`*.sample`, say) is not run.
public struct Hooks: Sendable {
    public enum Stage: String, Sendable { case pre, post, error }

    package let source: String
    package let directory: String

    public init(source: Source, command: String) {
        self.source = source.path
        directory = source.path + "/.emu/hooks/" + command
    }

    /// The hooks of one stage, in name order.
    package func programs(_ stage: Stage) -> [String] {
        guard let handle = try? DirectoryHandle.open(directory), let entries = try? handle.entries() else { return [] }
        return entries.map(\.name).sorted().compactMap { name -> String? in
            guard let text = String(validating: name.bytes, as: UTF8.self), text.hasSuffix("." + stage.rawValue),
                  let status = try? handle.status(name), status.kind == .regular, status.permissions & 0o111 != 0
            else { return nil }
            return directory + "/" + text
        }
    }

    /// Runs a stage's hooks. A `pre` hook that fails stops the command; the
    /// others' failures come back as warnings.
    @discardableResult
    public func run(_ stage: Stage, environment: [String: String]) throws -> [String] {
        var warnings: [String] = []
        var variables = currentEnvironment()
        for (key, value) in environment { variables[key] = value }
        for program in programs(stage) {
            let status = spawn(program, environment: variables)
            guard status != 0 else { continue }
            let what = status < 0 ? "could not start (\(String(cString: strerror(errno))))" : "exited with status \(status)"
            if stage == .pre {
                throw EmuError.failed("the hook \(program) \(what); nothing was done",
                                      fix: "fix the hook, or make it non-executable (chmod -x) to skip it")
            }
            warnings.append("the \(stage.rawValue) hook \(program) \(what)")
        }
        return warnings
    }

    package func spawn(_ program: String, environment: [String: String]) -> Int32 {
        runProgram(program, [program], environment: environment, in: source)
    }
}

/// Runs `path` with `arguments` (the first is its name) in `directory` and
/// waits: its exit status, 128 + the signal that ended it, or -1 when it
/// could not start (errno says why). With `output`, its stdout and stderr
/// go there and it inherits no other descriptor: a daemon it leaves behind
/// then holds nothing of ours open. With `timeout` (seconds), a program
/// still running then is ended, and -1 returned with errno ETIMEDOUT.
package func runProgram(_ path: String, _ arguments: [String], environment: [String: String], in directory: String,
                        output: OpenFile? = nil, timeout: Int = 0) -> Int32 {
    let variables = environment.map { "\($0.key)=\($0.value)" }
    func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { $0.fileSystemBytes.withCString { strdup($0) } } + [nil] }
    let argv = cStrings(arguments), envp = cStrings(variables)
    defer { (argv + envp).forEach { free($0) } }
    let status = path.fileSystemBytes.withCString { program in
        directory.fileSystemBytes.withCString { emu_spawn_and_wait(program, argv, envp, $0, output?.descriptor.rawValue ?? -1, Int32(clamping: timeout)) }
    }
    if status < 0 { return -1 }
    // WIFEXITED: the low 7 bits are 0; then WEXITSTATUS is the next byte.
    return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
}

/// The process's environment as a dictionary.
package func currentEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") { result[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
        pointer += 1
    }
    return result
}
