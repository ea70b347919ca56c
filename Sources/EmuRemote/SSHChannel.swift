import CEmuShims
import EmuPOSIX
import Glibc
import SystemPackage
import EmuCore
import EmuRecords

/// `emu serve` on another machine, started through the user's ssh command:
/// frames go to its stdin and come from its stdout; ssh's own messages
/// (host keys, passwords refused) reach the user's terminal on stderr.
package final class SSHChannel {
    package let pid: Int32
    package let reader: FrameReader
    package let writer: FrameWriter
    package let input: OpenFile
    package let output: OpenFile
    package let address: RemoteAddress
    /// For `emu sink add`: the sink is not registered yet, so a fix names the command's options, not `emu config`.
    package var registering = false
    /// The `emu serve` of a local sink on a thread of this process (see
    /// `RemoteSink.servedHere`): it ends when the channel closes.
    package var servingThread: WorkerThread? = nil
    private var status: Int32? = nil

    /// Starts `sshCommand DESTINATION REMOTE-EMU serve --sink PATH` (with
    /// `-p PORT` when the address has one), over this process's shared
    /// connection to that host when there is one (see `SharedConnections`),
    /// which may take up to `connectTimeout` seconds to open.
    package init(address: RemoteAddress, sshCommand: [String], remoteEmu: String, sinkName: String, registering: Bool = false,
                 connectTimeout: Int = 30) throws {
        self.address = address
        self.registering = registering
        var arguments = sshCommand
        do {
            arguments += try SharedConnections.options(sshCommand: sshCommand, destination: address.destination, port: address.port,
                                                       timeout: connectTimeout)
        } catch {
            throw Self.notAnswering(address, sinkName: sinkName, after: connectTimeout, registering: registering)
        }
        if let port = address.port { arguments += ["-p", String(port)] }
        arguments += [address.destination, "\(remoteEmu) serve --sink \(shellQuoted(address.path))"]
        var toChild: Int32 = -1, fromChild: Int32 = -1
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let started = emu_spawn_piped(arguments[0], argv, &toChild, &fromChild)
        guard started > 0 else {
            throw EmuError.failed("cannot start \(arguments[0]): \(Errno(rawValue: errno))",
                                  fix: "install OpenSSH's client, or name another ssh command (`emu config sink.\(sinkName).ssh-command CMD`)")
        }
        pid = started
        // A server that is gone must fail the write, not kill emu.
        signal(SIGPIPE, SIG_IGN)
        output = OpenFile(FileDescriptor(rawValue: toChild), path: Self.pathName)
        input = OpenFile(FileDescriptor(rawValue: fromChild), path: Self.pathName)
        reader = FrameReader(input, peer: "the server")
        writer = FrameWriter(output)
    }

    /// A channel over descriptors already open (an `emu serve` this process
    /// runs on a pair of pipes): no ssh to start, wait for or end.
    package init(input: OpenFile, output: OpenFile, address: RemoteAddress) {
        pid = 0
        self.address = address
        self.input = input
        self.output = output
        reader = FrameReader(input, peer: "the server")
        writer = FrameWriter(output)
    }

    deinit { close() }

    /// Closes the channel (the server sees its end) and waits for ssh.
    @discardableResult
    package func close() -> Int32 {
        if let status { return status }
        writer.close()
        reader.closed = true
        output.close()
        input.close()
        servingThread?.join()
        guard pid > 0 else { status = 0; return 0 }
        let raw = emu_wait(pid)
        let code = raw < 0 ? -1 : (raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F))
        status = code
        return code
    }

    /// The name failures of the channel's reads and writes carry.
    package static let pathName = Array("the ssh channel".utf8)

    /// Whether ssh has exited (without reaping it: `close` does).
    package var hasEnded: Bool {
        if status != nil { return true }
        guard pid > 0 else { return false }
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid
    }

    /// Why the server said nothing: what ssh's exit status means.
    package func silence(sinkName: String) -> EmuError {
        let code = close()
        let host = address.host
        switch code {
        case 127:
            return EmuError.failed("emu is not installed on \(host) (the remote shell found no `emu`)",
                                   fix: "install emu there, or name its path with " + (registering ? "`emu sink add \(sinkName) \(address.text) --remote-emu PATH`"
                                                                                      : "`emu config sink.\(sinkName).remote-emu PATH`"))
        case 255:
            return EmuError.failed("ssh could not reach \(address.destination) (its message is above)",
                                   fix: "check that `\(address.sshCommandLine)` works without a password prompt, or name another ssh command with "
                                       + (registering ? "`emu sink add ... --ssh-command CMD`" : "`emu config sink.\(sinkName).ssh-command CMD`"))
        default:
            return EmuError.failed("the connection to \(host) closed before emu serve answered (ssh exited with status \(code))",
                                   fix: "check that `\(address.sshCommandLine) emu --version` works")
        }
    }

    /// A server that did not answer in time: ssh is ended, not waited for
    /// (it blocks SIGTERM while its ProxyCommand connects: then SIGKILL).
    package func abandon(sinkName: String, after seconds: Int) -> EmuError {
        kill(pid, SIGTERM)
        var ended = false
        for _ in 0..<20 where !ended {
            if waitpid(pid, nil, WNOHANG) == pid { ended = true } else { usleep(50_000) }
        }
        if !ended {
            kill(pid, SIGKILL)
            _ = emu_wait(pid)
        }
        writer.close()
        reader.closed = true
        output.close()
        input.close()
        status = -1
        return Self.notAnswering(address, sinkName: sinkName, after: seconds, registering: registering)
    }

    private static func notAnswering(_ address: RemoteAddress, sinkName: String, after seconds: Int, registering: Bool) -> EmuError {
        EmuError.failed("\(address.destination) did not answer within \(seconds) seconds",
                        fix: "check that the host is up and `\(address.sshCommandLine)` works"
                            + (registering ? "" : "; a slow link may need `emu config sink.\(sinkName).connect-timeout SECONDS`"))
    }
}
