import Foundation
import Glibc
import Testing

/// A client that speaks emu's protocol to `emu serve` itself, as an
/// attacker's script would: the server a child on pipes (no ssh, no friendly
/// client to tidy what is sent), frames written and read byte by byte.
/// A frame: 4 bytes of big-endian length (kind and payload), 1 byte of kind, the payload.
final class ServeSession {
    enum Kind: UInt8 { case hello = 1, request, reply, data, end, error, keepAlive }

    private let process = Process()
    private let toServer = Pipe(), fromServer = Pipe()

    init(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws {
        // A server that hung up must fail the test, not kill the test runner with SIGPIPE on the next write.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: EmuBinary.path)
        process.arguments = ["serve"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = toServer
        process.standardOutput = fromServer
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit { _ = close() }

    /// The buffer sizes of the pipes to and from the server (F_GETPIPE_SZ, 1032 in Linux's fcntl.h).
    var pipeSizes: [Int32] {
        [toServer.fileHandleForWriting.fileDescriptor, fromServer.fileHandleForReading.fileDescriptor].map { fcntl($0, 1032) }
    }

    func send(_ kind: Kind, _ text: String) {
        let payload = Array(text.utf8)
        let length = UInt32(payload.count + 1).bigEndian
        let header = withUnsafeBytes(of: length) { Array($0) } + [kind.rawValue]
        try? toServer.fileHandleForWriting.write(contentsOf: header + payload)
    }

    /// The next frame, or nil when the server closed the channel.
    func receive() -> (kind: Kind?, text: String)? {
        let header = fromServer.fileHandleForReading.readData(ofLength: 5)
        guard header.count == 5 else { return nil }
        let length = header.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        let payload = length > 1 ? fromServer.fileHandleForReading.readData(ofLength: length - 1) : Data()
        return (Kind(rawValue: header[4]), String(decoding: payload, as: UTF8.self))
    }

    /// The hello a client sends for the sink at `path` (made if `create`), and the server's answer.
    func hello(sink path: String, create: Bool = false, plan: Bool = false) -> (kind: Kind?, text: String)? {
        send(.hello, "emu-serve 4\nemu test\nsink \(path)\n" + (create ? "create\n" : "") + (plan ? "plan\n" : ""))
        return receive()
    }

    /// A request's words, and the server's answer (the first frame of it).
    func request(_ words: String) -> (kind: Kind?, text: String)? {
        send(.request, words)
        return receive()
    }

    /// Hangs up and waits up to `seconds` for the server to end: its exit
    /// status, or nil when it had to be killed (a server spinning on what a
    /// client sent, holding the lock).
    func close(within seconds: Int) -> Int32? {
        try? toServer.fileHandleForWriting.close()
        return end(within: seconds)
    }

    /// Waits up to `seconds` for the server to end with the channel still
    /// open: its exit status, or nil when it had to be killed.
    func end(within seconds: Int) -> Int32? {
        for _ in 0..<(seconds * 20) where process.isRunning { usleep(50_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// Ends the session (the client hangs up) and returns the server's exit status.
    func close() -> Int32 {
        try? toServer.fileHandleForWriting.close()
        if process.isRunning { process.waitUntilExit() }
        return process.terminationStatus
    }
}
