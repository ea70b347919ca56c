import EmuPOSIX
import Glibc
import SystemPackage
import EmuCore
import EmuRecords

extension RemoteSink {
    /// A local sink reached as a server's is: an `emu serve --sink PATH` on
    /// a thread of this process, joined by two pipes. `emu replicate` writes
    /// every copy through one receiver (`PushReceiver`, which checks what it
    /// is sent), whether the sink is here or over ssh; closing the channel
    /// ends the server, and a kill of this process leaves the sink as a
    /// killed push does.
    package static func servedHere(name: String, path: String, creating: Bool = false) throws -> RemoteSink {
        signal(SIGPIPE, SIG_IGN)
        var toServer: [Int32] = [0, 0], toClient: [Int32] = [0, 0]
        guard pipe(&toServer) == 0, pipe(&toClient) == 0 else {
            throw EmuError.failed("cannot make a pipe: \(Errno(rawValue: errno))", fix: "close other programs and try again")
        }
        // Hooks and ssh that this process starts must not hold the pipes open.
        for fd in toServer + toClient { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let served = Transfer(SinkServer(input: OpenFile(FileDescriptor(rawValue: toServer[0]), path: Array("the pipe".utf8)),
                                         output: OpenFile(FileDescriptor(rawValue: toClient[1]), path: Array("the pipe".utf8)),
                                         sink: path, root: nil, mode: .full, idleTimeout: nil))
        let thread = WorkerThread {
            try? served.value.run()
            served.value.reader.input.close()
            served.value.writer.output.close()
        }
        let channel = SSHChannel(input: OpenFile(FileDescriptor(rawValue: toClient[0]), path: Array("the pipe".utf8)),
                                 output: OpenFile(FileDescriptor(rawValue: toServer[1]), path: Array("the pipe".utf8)),
                                 address: RemoteAddress(parsing: "ssh://localhost" + absolutePath(path))!)
        channel.servingThread = thread
        return try RemoteSink(name: name, channel: channel, creating: creating)
    }
}
