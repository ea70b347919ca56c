@testable import EmuCore
import EmuPOSIX
import Foundation
import Glibc
import SystemPackage
import Testing
@testable import EmuRecords
@testable import EmuRemote

@Suite("the remote protocol's pieces")
struct WireTests {
    @Test("sink addresses: ssh URLs and scp's form parse; local paths and other schemes do not", arguments: [
        ("ssh://alice@nas:2222/srv/emu/laptop", "alice", "nas", 2222, "/srv/emu/laptop"),
        ("ssh://nas/srv/emu", nil, "nas", nil, "/srv/emu"),
        ("ssh://[::1]:22/srv", nil, "::1", 22, "/srv"),
        ("alice@nas:/srv/emu", "alice", "nas", nil, "/srv/emu"),
        ("nas:backups/laptop", nil, "nas", nil, "backups/laptop"),
    ] as [(String, String?, String, Int?, String)])
    func addresses(text: String, user: String?, host: String, port: Int?, path: String) throws {
        let address = try #require(RemoteAddress(parsing: text))
        #expect(address.user == user && address.host == host && address.port == port && address.path == path)
        #expect(RemoteAddress(parsing: address.text) == address, "the canonical text parses back")
    }

    @Test("what is not an ssh address", arguments: ["/srv/emu", "./a:b", "rsync://host/x", "ssh://host", "ssh://host:99999/x", "nas:", "@nas:/x"])
    func notAddresses(text: String) {
        #expect(RemoteAddress(parsing: text) == nil)
    }

    @Test("one place says what a sink's path names: here, over ssh, or a remote-looking text emu cannot reach")
    func locations() {
        #expect(SinkLocation("/srv/emu") == .local("/srv/emu"))
        #expect(SinkLocation("./a:b") == .local("./a:b"))
        #expect(SinkLocation("backups") == .local("backups"))
        #expect(SinkLocation("nas:backups").remote == RemoteAddress(parsing: "nas:backups"))
        #expect(SinkLocation("ssh://alice@nas:2222/srv").remote?.port == 2222)
        for text in ["rsync://host/x", "ssh://host", "nas:", "@nas:/x"] { #expect(SinkLocation(text) == .unreachable(text), "\(text)") }
    }

    /// The bytes of frames as a peer would send them.
    static func encode(_ frames: [Frame]) throws -> [UInt8] {
        let file = NSTemporaryDirectory() + "frames-\(UUID().uuidString)"
        defer { unlink(file) }
        let output = OpenFile(try FileDescriptor.open(file, .writeOnly, options: [.create], permissions: .ownerReadWrite), path: [])
        let writer = FrameWriter(output)
        for frame in frames { try writer.send(frame) }
        try writer.flush()
        output.close()
        return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// Reads every frame from `bytes` through a pipe, as the other side's reader does.
    static func decode(_ bytes: [UInt8]) throws -> [Frame] {
        let file = NSTemporaryDirectory() + "frames-\(UUID().uuidString)"
        defer { unlink(file) }
        FileManager.default.createFile(atPath: file, contents: Data(bytes))
        let input = OpenFile(try FileDescriptor.open(file, .readOnly), path: [])
        defer { input.close() }
        let reader = FrameReader(input, peer: "the test")
        var frames: [Frame] = []
        while let frame = try reader.next() { frames.append(frame) }
        return frames
    }

    @Test("frames cross whole and in order; a cut frame, an unknown kind and an oversized length are errors")
    func frames() throws {
        let sent = [Frame(.hello, text: "emu-serve 1\nsink /srv\n"), Frame(.data, [UInt8](repeating: 7, count: 300_000)), Frame(.end)]
        let bytes = try Self.encode(sent)
        #expect(try Self.decode(bytes) == sent)
        #expect(throws: EmuError.self) { try Self.decode(Array(bytes.dropLast(3))) }
        #expect(throws: EmuError.self) { try Self.decode([0, 0, 0, 1, 99]) }
        #expect(throws: EmuError.self) { try Self.decode([0x7F, 0xFF, 0xFF, 0xFF, 1]) }
        #expect(throws: EmuError.self) { try Self.decode([0, 0, 0, 0]) }
    }

    @Test("keep-alive frames are dropped wherever they come; a quiet writer sends them until it is closed")
    func keepAlives() throws {
        let sent = [Frame(.request, text: "head"), Frame(.data, text: "x")]
        let bytes = try Self.encode([Frame(.keepAlive)] + [sent[0], Frame(.keepAlive), Frame(.keepAlive), sent[1], Frame(.keepAlive)])
        #expect(try Self.decode(bytes) == sent)

        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let input = OpenFile(FileDescriptor(rawValue: ends[0]), path: [])
        let output = OpenFile(FileDescriptor(rawValue: ends[1]), path: [])
        defer { input.close() }
        let writer = FrameWriter(output)
        writer.keepAlive(every: 0.05)
        let reader = FrameReader(input, peer: "the test", idleTimeout: 10)
        try reader.awaitInput()
        #expect(!reader.holdsAFrame, "a keep-alive is not a frame to read")
        try writer.send(Frame(.reply, text: "after"))
        try writer.flush()
        #expect(try reader.next() == Frame(.reply, text: "after"))
        writer.close()
        output.close()
        #expect(try reader.next() == nil, "nothing but keep-alives, then the end")
    }

    @Test("fuzzed frame streams are read or refused, never a crash, a hang or a frame beyond the limit")
    func fuzzedFrames() throws {
        var g = FuzzTests.Generator(state: FuzzTests.seed)
        let valid = try Self.encode([Frame(.request, text: "records abc"), Frame(.data, text: "x\ty\n"), Frame(.end), Frame(.error, text: "failed\nno\n")])
        let tokens: [[UInt8]] = [[0, 0, 0, 1], [0xFF, 0xFF, 0xFF, 0xFF], [1], [6], [0, 0, 1, 0]]
        for _ in 0..<FuzzTests.iterations / 10 {
            let input = FuzzTests.mutate(valid, tokens: tokens, &g)
            if let frames = try? Self.decode(input) {
                #expect(frames.allSatisfy { $0.payload.count <= Frame.maximumPayload })
            }
        }
    }

    @Test("hex from a peer: either case, pairs that are not hex skipped, an odd last digit dropped; our own hex reads back byte for byte")
    func hexFromAPeer() {
        #expect(RemoteSink.bytes(hex: "41fF0a") == [0x41, 0xFF, 0x0A])
        #expect(RemoteSink.bytes(hex: "41zz42") == [0x41, 0x42])
        #expect(RemoteSink.bytes(hex: "414") == [0x41])
        #expect(RemoteSink.bytes(hex: "-").isEmpty && RemoteSink.bytes(hex: "").isEmpty)
        let every = (0...255).map(UInt8.init)
        #expect(RemoteSink.hex(every).count == 512 && RemoteSink.bytes(hex: RemoteSink.hex(every)) == every)
        #expect(RemoteSink.hex([]) == "-")
    }

    @Test("a request's words are its first line split at spaces, as bytes: runs of spaces, CR and non-UTF-8 bytes do not merge or split words")
    func requestWords() {
        #expect(Wire.words(of: Frame(.request, text: "restore  abc 2f78\ncontent more")) == ["restore", "abc", "2f78"])
        #expect(Wire.words(of: Frame(.request, text: "push-end\r\nx")) == ["push-end\r"], "a CR stays in the word, so the verb is refused")
        #expect(Wire.words(of: Frame(.request, [0x61, 0xFF, 0x20, 0x62])).count == 2)
        #expect(Wire.words(of: Frame(.request, text: "")).isEmpty)
    }
}
