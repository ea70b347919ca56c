import EmuPOSIX
import Synchronization
import EmuCore
import EmuRecords

/// The unit of `emu serve`'s protocol on the ssh channel: a 4-byte
/// big-endian length, then a kind byte and the payload the length counts.
/// A frame larger than `maximumPayload` is refused before it is read, so a
/// peer speaking garbage costs neither memory nor a hang.
public struct Frame: Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        /// The first frame each way: protocol version and who is speaking.
        case hello = 1
        /// A request: its words, as text lines.
        case request = 2
        /// The answer to a request that fits in one frame.
        case reply = 3
        /// A piece of a stream (records, file bytes); `end` closes the stream.
        case data = 4
        case end = 5
        /// A refusal or failure: the message, a newline, the fix.
        case error = 6
        /// Says only that the sender is alive: a client that computes for
        /// long between frames sends it so that the server's idle timeout
        /// does not end the session. Readers drop it wherever it comes.
        case keepAlive = 7
    }

    public var kind: Kind
    public var payload: [UInt8]

    public init(_ kind: Kind, _ payload: [UInt8] = []) {
        self.kind = kind
        self.payload = payload
    }

    public init(_ kind: Kind, text: String) { self.init(kind, Array(text.utf8)) }

    public var text: String { String(decoding: payload, as: UTF8.self) }

    /// 16 MiB: a stream's pieces are 256 KiB; a reply is a few lines.
    public static let maximumPayload = 16 << 20
}

/// Reads frames from a pipe or socket, buffered.
public final class FrameReader {
    package let input: OpenFile
    package var buffer: [UInt8] = []
    package var start = 0
    /// Where each read(2) lands before it joins `buffer`.
    private var chunk = [UInt8](repeating: 0, count: 1 << 20)
    /// What the other side is called in messages ("the server", "the client").
    package let peer: String
    /// How long a read waits for the other side before the channel counts
    /// as dead (nil: as long as it lives). A server whose client went
    /// silent must not hold the sink's lock for the life of the connection.
    public var idleTimeout: Int?
    /// Whether the last read failed because `idleTimeout` passed.
    public private(set) var timedOut = false
    /// Set when the input is closed: its number may name a file opened since, never to be read as the channel.
    package var closed = false

    public init(_ input: OpenFile, peer: String, idleTimeout: Int? = nil) {
        self.input = input
        self.peer = peer
        self.idleTimeout = idleTimeout
    }

    /// The next frame other than a keep-alive; nil when the other side
    /// closed the channel between frames.
    public func next() throws -> Frame? {
        while let frame = try nextOfAnyKind() {
            if frame.kind != .keepAlive { return frame }
        }
        return nil
    }

    private func nextOfAnyKind() throws -> Frame? {
        guard try fill(4, endIsClean: true) else { return nil }
        let length = buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length >= 1, length - 1 <= Frame.maximumPayload else {
            throw EmuError.channel("\(peer) sent a frame of \(length) bytes, which is not one emu speaks",
                                  fix: "check that both sides run emu, of versions that speak the same protocol")
        }
        guard try fill(4 + length, endIsClean: false) else { return nil }
        guard let kind = Frame.Kind(rawValue: buffer[start + 4]) else {
            throw EmuError.channel("\(peer) sent a frame of unknown kind \(buffer[start + 4])",
                                  fix: "check that both sides run emu, of versions that speak the same protocol")
        }
        let frame = Frame(kind, Array(buffer[start + 5..<start + 4 + length]))
        start += 4 + length
        return frame
    }

    /// Whether a whole frame has arrived and waits to be read: its reader
    /// need not wait for the other side.
    public var holdsAFrame: Bool {
        while buffer.count - start >= 5 {
            let length = buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
            guard buffer.count - start >= 4 + length else { return false }
            guard length == 1 && buffer[start + 4] == Frame.Kind.keepAlive.rawValue else { return true }
            start += 5
        }
        return false
    }

    /// Makes `count` bytes available from `start`; false at a clean end.
    package func fill(_ count: Int, endIsClean: Bool) throws -> Bool {
        if start > 0 && start + count > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        // What is missing, and up to a page of whatever else has arrived (the next small frames), a megabyte
        // at a time: a length that lies costs no more memory than the bytes that came.
        while buffer.count - start < count {
            let want = min(count - (buffer.count - start), chunk.count)
            if closed { throw FileSystemError("read", input.path, .badFileDescriptor, origin: input.origin) }
            try awaitInput()
            let n = try chunk.withUnsafeMutableBytes { try input.readSome(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<max(want, 4096)])) }
            buffer.append(contentsOf: chunk[..<n])
            guard n > 0 else {
                if endIsClean && buffer.count == start { return false }
                throw EmuError.channel("\(peer) closed the connection in the middle of a frame", fix: "run the command again")
            }
        }
        return true
    }
}

extension FrameReader {
    /// Returns once input waits (or the channel ended); throws when the
    /// idle timeout passes first.
    package func awaitInput() throws {
        guard let idleTimeout else { return }
        guard try input.waitForInput(milliseconds: idleTimeout * 1000) else {
            timedOut = true
            throw EmuError.channel("\(peer) sent nothing for \(idleTimeout) seconds; the session ended",
                                  fix: "check the network and run the command again")
        }
    }
}

/// Writes frames to a pipe or socket, gathered into writes of up to
/// 256 KiB: ssh pays per packet, and a push sends a small frame per file.
/// Whoever waits for an answer calls `flush()` first. Locked, because the
/// keep-alive thread writes too.
public final class FrameWriter: @unchecked Sendable {
    private struct Gathered {
        package var bytes: [UInt8] = []
        package var lastWrite = monotonicSeconds()
        package var closed = false
        package var writes = 0
    }

    package let output: OpenFile
    private let gathered = Mutex(Gathered())
    private var keepAlive: Ticker?
    package static let flushSize = 256 * 1024

    public init(_ output: OpenFile) { self.output = output }

    public func send(_ frame: Frame) throws {
        precondition(frame.payload.count <= Frame.maximumPayload, "a frame over the protocol's limit")
        try gathered.withLock { gathered in
            Self.append(frame, to: &gathered.bytes)
            if gathered.bytes.count >= Self.flushSize { try write(&gathered) }
        }
    }

    /// Sends a `data` frame of `bytes`, copied once, into what is gathered.
    public func send(data bytes: UnsafeRawBufferPointer) throws {
        precondition(bytes.count <= Frame.maximumPayload, "a frame over the protocol's limit")
        try gathered.withLock { gathered in
            Self.appendHeader(.data, payloadCount: bytes.count, to: &gathered.bytes)
            gathered.bytes.append(contentsOf: bytes)
            if gathered.bytes.count >= Self.flushSize { try write(&gathered) }
        }
    }

    /// How many times what was gathered went out. A client waits for an
    /// answer after nearly each: a push's round trips (a test counts them).
    package var writes: Int { gathered.withLock { $0.writes } }

    /// Writes out what is gathered.
    public func flush() throws {
        try gathered.withLock { try write(&$0) }
    }

    /// From now until `close`, whenever nothing went out for `seconds`, a
    /// keep-alive frame does (with whatever is gathered): the server ends a
    /// session whose client is silent for its idle timeout, and a client may
    /// compute for long between frames (one huge directory read and sorted).
    /// A write that fails here fails again, and is reported, on the
    /// writer's next frame.
    public func keepAlive(every seconds: Double) {
        keepAlive = Ticker(every: seconds) { [weak self] in
            self?.gathered.withLock { gathered in
                guard !gathered.closed, monotonicSeconds() - gathered.lastWrite >= seconds else { return }
                Self.append(Frame(.keepAlive), to: &gathered.bytes)
                try? self?.write(&gathered)
            }
        }
    }

    /// Ends the keep-alives; the output is then the caller's to close.
    public func close() {
        gathered.withLock { $0.closed = true }
        keepAlive?.stop()
        keepAlive = nil
    }

    private func write(_ gathered: inout Gathered) throws {
        guard !gathered.bytes.isEmpty else { return }
        // Once closed, the descriptor's number may name a file opened since: a late frame (an unlock after the server died) must not land there.
        if gathered.closed { throw FileSystemError("write", output.path, .badFileDescriptor, origin: output.origin) }
        defer { gathered.bytes.removeAll(keepingCapacity: true) }
        gathered.lastWrite = monotonicSeconds()
        gathered.writes += 1
        try output.writeAll(gathered.bytes)
    }

    private static func append(_ frame: Frame, to bytes: inout [UInt8]) {
        appendHeader(frame.kind, payloadCount: frame.payload.count, to: &bytes)
        bytes += frame.payload
    }

    private static func appendHeader(_ kind: Frame.Kind, payloadCount: Int, to bytes: inout [UInt8]) {
        let length = UInt32(payloadCount + 1)
        for shift in [24, 16, 8, 0] as [UInt32] { bytes.append(UInt8(truncatingIfNeeded: length >> shift)) }
        bytes.append(kind.rawValue)
    }
}
