import EmuPOSIX

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
    let input: OpenFile
    var buffer: [UInt8] = []
    var start = 0
    /// Where each read(2) lands before it joins `buffer`.
    private var chunk = [UInt8](repeating: 0, count: 1 << 20)
    /// What the other side is called in messages ("the server", "the client").
    let peer: String
    /// How long a read waits for the other side before the channel counts
    /// as dead (nil: as long as it lives). A server whose client went
    /// silent must not hold the sink's lock for the life of the connection.
    public var idleTimeout: Int?
    /// Whether the last read failed because `idleTimeout` passed.
    public private(set) var timedOut = false

    public init(_ input: OpenFile, peer: String, idleTimeout: Int? = nil) {
        self.input = input
        self.peer = peer
        self.idleTimeout = idleTimeout
    }

    /// The next frame; nil when the other side closed the channel between frames.
    public func next() throws -> Frame? {
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
        guard buffer.count - start >= 4 else { return false }
        let length = buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
        return buffer.count - start >= 4 + length
    }

    /// Makes `count` bytes available from `start`; false at a clean end.
    func fill(_ count: Int, endIsClean: Bool) throws -> Bool {
        if start > 0 && start + count > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        // What is missing, and up to a page of whatever else has arrived (the next small frames), a megabyte
        // at a time: a length that lies costs no more memory than the bytes that came.
        while buffer.count - start < count {
            let want = min(count - (buffer.count - start), chunk.count)
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
    func awaitInput() throws {
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
/// Whoever waits for an answer calls `flush()` first.
public final class FrameWriter {
    let output: OpenFile
    var buffer: [UInt8] = []
    static let flushSize = 256 * 1024

    public init(_ output: OpenFile) { self.output = output }

    public func send(_ frame: Frame) throws {
        precondition(frame.payload.count <= Frame.maximumPayload, "a frame over the protocol's limit")
        let length = UInt32(frame.payload.count + 1)
        buffer += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), frame.kind.rawValue]
        buffer += frame.payload
        if buffer.count >= Self.flushSize { try flush() }
    }

    /// Writes out what is gathered.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        try output.writeAll(buffer)
    }
}
