@testable import EmuCore
import EmuPOSIX
import Foundation
import Glibc
import SystemPackage
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// The push over ssh without ssh: the client's sender and wire writer and
/// the server's receiver, in this process, joined by two pipes.
/// Serialized: each test points the process's records cache (an environment variable) at its own bench.
@Suite("the wire writer and the receiver, joined by a pipe", .serialized)
struct WirePushTests {
    /// A `SinkServer` for the bench's sink on a thread of its own, and a
    /// `RemoteSink` talking to it (`RemoteSink.servedHere`, as emu replicate reaches a local sink).
    final class Joined {
        let remote: RemoteSink

        init(_ bench: Workbench) throws {
            // The records cache of this process: under the bench, not the user's home (no other unit test reads it).
            setenv("XDG_CACHE_HOME", bench.root + "/cache", 1)
            remote = try RemoteSink.servedHere(name: "wire", path: bench.sinkPath)
        }

        /// Ends the server: closing the channel joins its thread.
        func close() { remote.channel.close() }
    }

    static func push(_ bench: Workbench, through joined: Joined, rotate: Bool = false, observer: RecordingObserver = RecordingObserver()) throws -> PushResult {
        var options = PushOptions()
        options.rotate = rotate
        return try withExtendedLifetime(observer) { try joined.remote.push(bench.source, options: options, observer: observer) }
    }

    @Test("a push crosses the pipe and the server builds the snapshot a local push builds; the next links what did not change")
    func pushThroughPipe() throws {
        let bench = try Workbench()
        for path in ["a", "d/b", "d/c"] { try bench.write(path, "one \(path)") }
        #expect(link(bench.sourcePath + "/a", bench.sourcePath + "/d/again") == 0)
        let joined = try Joined(bench)
        defer { joined.close() }
        let first = try Self.push(bench, through: joined)
        #expect(first.counts.files == 4 && first.counts.filesCopied == 3, "\(first.counts)")
        let snapshot = try #require(first.snapshot)
        #expect(try bench.read(bench.inSnapshot(snapshot, "d/b")) == "one d/b")
        #expect(try bench.inode(bench.inSnapshot(snapshot, "a")) == bench.inode(bench.inSnapshot(snapshot, "d/again")), "hardlinks stay")

        try bench.write("d/b", "two")
        let second = try Self.push(bench, through: joined)
        #expect(second.counts.filesCopied == 1 && second.counts.filesLinked == 2, "a and d/c linked, d/again their other name: \(second.counts)")
        let next = try #require(second.snapshot)
        #expect(try bench.inode(bench.inSnapshot(next, "d/c")) == bench.inode(bench.inSnapshot(snapshot, "d/c")))
        #expect(try bench.read(bench.inSnapshot(next, "d/b")) == "two")
        let observer = RecordingObserver()  // the verifier holds it unowned
        let damages = try withExtendedLifetime(observer) { try Verifier(observer: observer).verify(next, in: bench.sink) }
        #expect(damages.isEmpty, "\(damages)")
    }

    @Test("a push waits for the server twice (lock, recover, list and begin; end, list and free space), and sends its unlock unwaited; deleting takes 2 more")
    func pushRoundTrips() throws {
        let bench = try Workbench()
        try bench.write("a", "alpha")
        try bench.sink.writeConfig(try INIDocument(parsing: "[Retention]\nkeep-last = 1\nmin-free = 1\n"))
        let joined = try Joined(bench)
        defer { joined.close() }
        var pushed: [Snapshot] = []
        for round in 1...2 {
            try bench.write("b", "beta \(round)")
            let before = joined.remote.channel.writer.writes
            let result = try Self.push(bench, through: joined, rotate: true)
            pushed.append(try #require(result.snapshot))
            // Each write but the unlock's is followed by a wait for the answer: a round trip on a slow link.
            #expect(joined.remote.channel.writer.writes - before == (round == 1 ? 3 : 5), "round \(round): a delete and finish-deleting follow the second")
            #expect(result.expired.map(\.id) == (round == 1 ? [] : [pushed[0].id]), "the list asked with push-end holds the new snapshot")
        }
        #expect(try joined.remote.snapshots().map(\.id) == [pushed[1].id], "the next answer read is the list's, not the unlock's")
    }

    @Test("min-free the space measured with push-end cannot meet goes to the server, which says why it removes nothing")
    func minFreeUnmet() throws {
        let bench = try Workbench()
        try bench.write("a", "alpha")
        try bench.sink.writeConfig(try INIDocument(parsing: "[Retention]\nmin-free = 99.9\n"))
        let joined = try Joined(bench)
        defer { joined.close() }
        let observer = RecordingObserver()
        let before = joined.remote.channel.writer.writes
        _ = try Self.push(bench, through: joined, rotate: true, observer: observer)
        #expect(joined.remote.channel.writer.writes - before == 4, "begun; ended; free-space; unlocked")
        #expect(observer.warnings.contains { $0.contains("min-free 99.9% wants") }, "\(observer.warnings)")
        #expect(try bench.sink.snapshots().count == 1)
    }

    @Test("a push begins on the snapshot its cache keeps; when another push made a newer one since, the server refuses, and it begins on that one")
    func beginsOnAnotherHead() throws {
        let bench = try Workbench()
        for path in ["a", "b"] { try bench.write(path, "one \(path)") }
        let joined = try Joined(bench)
        defer { joined.close() }
        let first = try #require(try Self.push(bench, through: joined).snapshot)
        #expect(try joined.remote.snapshots().count == 1, "answered after the push's unlock")
        try bench.write("b", "two b")
        let between = try #require(try bench.push().snapshot, "a push the cache did not see")
        try bench.write("c", "one c")
        let before = joined.remote.channel.writer.writes
        let third = try #require(try Self.push(bench, through: joined).snapshot)
        #expect(joined.remote.channel.writer.writes - before == 5, "refused with the rest; the records read; begun again; ended; unlocked")
        #expect(third.counts.filesCopied == 1 && third.counts.filesLinked == 2, "compared with the newest, not the cached one: \(third.counts)")
        #expect(try bench.inode(bench.inSnapshot(third, "b")) == bench.inode(bench.inSnapshot(between, "b")))
        #expect(try bench.inode(bench.inSnapshot(third, "a")) == bench.inode(bench.inSnapshot(first, "a")))
    }

    @Test("a server that says a push began on a snapshot its own list contradicts is not believed: the push fails, and its session is cut")
    func contradictingServer() throws {
        let bench = try Workbench()
        try bench.write("a", "alpha")
        setenv("XDG_CACHE_HOME", bench.root + "/cache", 1)
        let listed = try #require(try bench.push().snapshot)
        var toServer: [Int32] = [0, 0], toClient: [Int32] = [0, 0]
        #expect(pipe(&toServer) == 0 && pipe(&toClient) == 0)
        let input = OpenFile(FileDescriptor(rawValue: toServer[0]), path: []), output = OpenFile(FileDescriptor(rawValue: toClient[1]), path: [])
        // Says the sink's index is empty (a client then begins on no snapshot), lists one, and answers every push-begin yes.
        let lying = Transfer((FrameReader(input, peer: "the client"), FrameWriter(output), Wire.listing(listed)))
        let server = WorkerThread {
            let (reader, writer, listing) = lying.value
            _ = try? reader.next()
            try? writer.send(Frame(.hello, text: "\(Wire.greeting) \(Wire.protocolVersion)\nmode full\nidle 0\nindex empty\n"))
            try? writer.flush()
            while let frame = try? reader.next() {
                switch frame.text.split(separator: " ").first {
                case "snapshots": try? writer.send(Frame(.data, text: listing)); try? writer.send(Frame(.end))
                case "resume-records": try? writer.send(Frame(.end))
                default: try? writer.send(Frame(.reply))
                }
                try? writer.flush()
            }
            input.close()
            output.close()
        }
        let channel = SSHChannel(input: OpenFile(FileDescriptor(rawValue: toClient[0]), path: []), output: OpenFile(FileDescriptor(rawValue: toServer[1]), path: []),
                                 address: RemoteAddress(parsing: "ssh://localhost/liar")!)
        channel.servingThread = server
        let remote = try RemoteSink(name: "liar", channel: channel)
        defer { channel.close() }
        #expect { try remote.push(bench.source, options: PushOptions(), observer: RecordingObserver()) } throws: { "\($0)".contains("contradicts its list") }
        #expect(channel.hasEnded, "the push the server says began is cut, not sent")
    }

    @Test("a push turned away by another's lock says so, and its session stays in step: every answer to what it sent together was read")
    func lockedPushStaysInStep() throws {
        let bench = try Workbench()
        try bench.write("a", "alpha")
        let joined = try Joined(bench)
        defer { joined.close() }
        let first = try #require(try Self.push(bench, through: joined).snapshot)
        #expect(try joined.remote.snapshots().count == 1, "answered after the push's unlock, which the server has then done")
        try bench.sink.lock(.exclusive, wait: 0)
        #expect { try Self.push(bench, through: joined) } throws: { ($0 as? EmuError)?.kind == .locked }
        bench.sink.unlock()
        #expect(try joined.remote.snapshots().map(\.id) == [first.id])
        try bench.write("a", "again")
        #expect(try Self.push(bench, through: joined).snapshot?.counts.filesCopied == 1)
    }

    @Test("found: a request after the channel closed (an unlock after the server died) went to whatever file took the descriptor's number; now it fails")
    func nothingWrittenAfterClose() throws {
        let bench = try Workbench()
        let joined = try Joined(bench)
        joined.close()
        // Files opened next take the lowest free numbers: the channel's among them.
        let paths = (0..<16).map { bench.root + "/late.\($0)" }
        let descriptors = paths.map { open($0, O_RDWR | O_CREAT, 0o600) }
        defer { descriptors.forEach { _ = Glibc.close($0) } }
        joined.remote.unlock()
        #expect(throws: (any Error).self) { try joined.remote.snapshots() }
        for path in paths { #expect(try bench.read(path) == "", "\(path) got the channel's frames") }
    }

    @Test("found: over ssh a killed checkout's temporary file in the source went into the snapshot; now it is left out and said, as here")
    func killedCheckoutFileLeftOut() throws {
        let bench = try Workbench()
        try bench.write("d/kept", "k")
        try bench.write("d/.emu-checkout.4242.1", "half")
        let joined = try Joined(bench)
        defer { joined.close() }
        let observer = RecordingObserver()
        let snapshot = try #require(try Self.push(bench, through: joined, observer: observer).snapshot)
        #expect(!FileManager.default.fileExists(atPath: bench.inSnapshot(snapshot, "d/.emu-checkout.4242.1")))
        #expect(try bench.read(bench.inSnapshot(snapshot, "d/kept")) == "k")
        #expect(observer.notes.contains { $0.hasPrefix("d/.emu-checkout.4242.1: left out") }, "\(observer.notes)")
        #expect(snapshot.status == .complete)
    }

    @Test("a first push to a sink whose index holds nothing sends each file unasked, read once; the records it predicted are kept; the next push asks")
    func firstPushReadsOnce() throws {
        let bench = try Workbench()
        for path in ["a", "d/b", "d/same-as-a"] { try bench.write(path, path == "d/same-as-a" ? "one a" : "one \(path)") }
        try bench.write("empty", "")
        for path in ["a", "d/same-as-a"] {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_600_000_000)], ofItemAtPath: bench.sourcePath + "/" + path)
        }
        let joined = try Joined(bench)
        defer { joined.close() }
        #expect(joined.remote.indexHoldsNothing, "a new sink's server says its index holds nothing")
        let first = try #require(try Self.push(bench, through: joined).snapshot)
        #expect(try bench.inode(bench.inSnapshot(first, "a")) == bench.inode(bench.inSnapshot(first, "d/same-as-a")),
                "the second copy crossed too, and the server linked it to the first")
        let cache = try #require(RecordsCache.open(sinkLocation: joined.remote.location))
        #expect(cache.records(of: first) != nil, "the records predicted while the bytes crossed, hashes included, are the server's")
        let observer = RecordingObserver()  // the verifier holds it unowned
        #expect(try withExtendedLifetime(observer) { try Verifier(observer: observer).verify(first, in: bench.sink) }.isEmpty)
        let again = try RemoteSink.servedHere(name: "wire", path: bench.sinkPath)
        defer { again.channel.close() }
        #expect(!again.indexHoldsNothing, "once the index holds files, a push asks about new ones")
    }

    @Test("a server whose copy of an unchanged file is gone fails the push, naming it, and publishes nothing; a local push copies it instead")
    func goneEarlierCopy() throws {
        let bench = try Workbench()
        try bench.write("a", "alpha")
        try bench.write("b", "beta")
        let joined = try Joined(bench)
        defer { joined.close() }
        let first = try #require(try Self.push(bench, through: joined).snapshot)
        #expect(unlink(bench.inSnapshot(first, "a")) == 0)
        #expect(throws: EmuError.self) { try Self.push(bench, through: joined) }
        do { _ = try Self.push(bench, through: joined) } catch {
            #expect("\(error)".contains("holds no copy of a"), "\(error)")
        }
        #expect(try bench.sink.snapshots().count == 1, "nothing was published")
        // The session ends first, as a command's does: its unlock is not waited for, its end is.
        joined.close()
        // Here the source is at hand: the file is copied, and the snapshot is whole.
        let local = try #require(try bench.push().snapshot)
        #expect(try bench.read(bench.inSnapshot(local, "a")) == "alpha" && local.status == .complete)
    }
}
