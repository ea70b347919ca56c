import EmuCore
import EmuPOSIX
import EmuRecords
import Glibc
import Synchronization

/// OpenSSH's connection sharing (ControlMaster) for the life of one emu
/// process: before the first session to a host through a given ssh command,
/// emu opens the connection itself and waits until it is up (`ssh -M -N -f`);
/// every session then runs over it without a new handshake, which costs
/// 0.2-0.3 s on loopback here: the next sink on that host, each push of
/// `emu watch`, a checkout after its log.
///
/// Opening the connection first, under a lock, is what makes it one: with
/// `ControlMaster=auto`, two sessions started together (two sinks pushed at
/// once) both find no socket and both connect.
///
/// The connection is this process's alone (its control socket is named by
/// the pid) and ends with it (`closeAll`), or after 5 minutes without a
/// session (ControlPersist: `emu watch` between pushes, or a killed emu): no
/// later command rides a connection authenticated before it, with a key the
/// server may have revoked since.
///
/// Only for OpenSSH's `ssh`, and only when neither the ssh command nor the
/// user's ssh configuration says anything of connection sharing: what the
/// user set is theirs.
package enum SharedConnections {
    private struct Connection {
        var sshCommand: [String]
        var destination: String
        var port: Int?
        var shares: Bool
        var destinationArguments: [String] { (port.map { ["-p", String($0)] } ?? []) + [destination] }
    }

    /// By control path: whether sessions share it, and how to end it.
    private static let connections = Mutex<[String: Connection]>([:])

    /// The options that make a session of `sshCommand` to `destination`
    /// share this process's connection, opened first when it is not up;
    /// none where sharing does not apply or the connection could not be
    /// opened (the session then connects on its own and says why it fails).
    /// Throws `NotAnswering` when the host did not answer within `timeout`
    /// seconds (0: no bound), as a session's hello would.
    package static func options(sshCommand: [String], destination: String, port: Int?, timeout: Int) throws -> [String] {
        guard let program = sshCommand.first, program.split(separator: "/").last == "ssh",
              !sshCommand.dropFirst().contains(where: mentionsSharing), let directory = privateDirectory() else { return [] }
        var hasher = ContentHasher()
        hasher.update(Array((sshCommand + [destination, port.map { String($0) } ?? "-"]).joined(separator: "\0").utf8))
        let path = "\(directory)/\(getpid())-" + String(decoding: hasher.finalize().hex.prefix(16), as: UTF8.self)
        // Held while a connection opens: a second session to the same host waits for it instead of opening its own.
        let shares = try connections.withLock { connections in
            if connections[path] == nil {
                let shares = userConfigurationLeavesSharing(sshCommand, destination: destination, port: port)
                connections[path] = Connection(sshCommand: sshCommand, destination: destination, port: port, shares: shares)
            }
            guard let connection = connections[path], connection.shares else { return false }
            if access(path, F_OK) == 0 { return true }
            // A connection that would not open (a refused key) is not tried again: each session then connects and says why.
            connections[path]!.shares = try connect(connection, at: path, timeout: timeout)
            return connections[path]!.shares
        }
        return shares ? ["-o", "ControlMaster=no", "-o", "ControlPath=" + path] : []
    }

    /// The host did not answer while the shared connection opened.
    package struct NotAnswering: Error {}

    /// Opens the shared connection and returns once it is up (`-f`: ssh
    /// goes to the background after authenticating, its socket listening).
    private static func connect(_ connection: Connection, at path: String, timeout: Int) throws -> Bool {
        guard let ssh = program(connection.sshCommand[0]),
              let quiet = try? DirectoryHandle.open("/tmp", origin: .source).createScratchFile() else { return false }
        defer { quiet.close() }
        let arguments = connection.sshCommand + ["-o", "ControlMaster=yes", "-o", "ControlPath=" + path, "-o", "ControlPersist=300", "-N", "-f"]
            + connection.destinationArguments
        let status = runProgram(ssh, arguments, environment: currentEnvironment(), in: "/", output: quiet, timeout: timeout)
        if status == -1 && errno == ETIMEDOUT { throw NotAnswering() }
        return status == 0 && access(path, F_OK) == 0
    }

    /// Ends every shared connection this process opened (`ssh -O exit`).
    /// Called on a signal too: when a connection is still opening (the lock
    /// held by `options`), it does not wait for it; those connections end
    /// after 5 idle minutes (ControlPersist).
    package static func closeAll() {
        let open: [String: Connection] = connections.withLockIfAvailable { connections in
            defer { connections.removeAll() }
            return connections.filter { $0.value.shares && access($0.key, F_OK) == 0 }
        } ?? [:]
        // What ssh says of it goes to a scratch file: the command's output is the user's.
        guard !open.isEmpty, let quiet = try? DirectoryHandle.open("/tmp", origin: .source).createScratchFile() else { return }
        defer { quiet.close() }
        for (path, connection) in open {
            guard let ssh = program(connection.sshCommand[0]) else { continue }
            let arguments = connection.sshCommand + ["-o", "ControlPath=" + path, "-O", "exit"] + connection.destinationArguments
            _ = runProgram(ssh, arguments, environment: currentEnvironment(), in: "/", output: quiet)
        }
    }

    /// An option of the user's ssh command that concerns sharing: then it is theirs to arrange.
    static func mentionsSharing(_ argument: String) -> Bool {
        argument.lowercased().contains("control") || ["-M", "-S"].contains(argument)
    }

    /// Whether the user's ssh configuration for this destination leaves
    /// sharing alone: `ssh -G` says `controlmaster false` and names no
    /// `controlpath`. (An explicit `ControlMaster no` there reads as the
    /// default: `-o ControlMaster=no` in the ssh command is what says no.)
    static func userConfigurationLeavesSharing(_ sshCommand: [String], destination: String, port: Int?) -> Bool {
        guard let ssh = program(sshCommand[0]), let scratch = try? DirectoryHandle.open("/tmp", origin: .source).createScratchFile() else { return false }
        defer { scratch.close() }
        let arguments = sshCommand + ["-G"] + (port.map { ["-p", String($0)] } ?? []) + [destination]
        guard runProgram(ssh, arguments, environment: currentEnvironment(), in: "/", output: scratch) == 0,
              lseek(scratch.descriptor.rawValue, 0, SEEK_SET) == 0, let said = try? scratch.readToEnd() else { return false }
        let lines = String(decoding: said, as: UTF8.self).split(separator: "\n")
        return lines.contains("controlmaster false") && !lines.contains { $0.hasPrefix("controlpath ") }
    }

    static func program(_ name: String) -> String? { name.hasPrefix("/") ? name : programInPath(name) }

    /// A directory only this user can enter, for the control sockets: in
    /// `$XDG_RUNTIME_DIR`, else `/tmp`; nil when what is there is not ours alone.
    static func privateDirectory() -> String? {
        let runtime = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) }.flatMap { $0.hasPrefix("/") ? $0 : nil }
        let directory = "\(runtime ?? "/tmp")/emu-ssh-\(getuid())"
        _ = mkdir(directory, 0o700)
        var status = stat()
        guard lstat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, status.st_uid == getuid(), status.st_mode & 0o077 == 0 else {
            return nil
        }
        return directory
    }
}
