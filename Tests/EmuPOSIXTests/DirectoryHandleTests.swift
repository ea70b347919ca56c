import EmuPOSIX
import Foundation
import Glibc
import SystemPackage
import Testing

@Suite("Walking by file descriptor")
struct DirectoryHandleTests {
    @Test("entries come back as bytes, including a name that is not UTF-8")
    func nonUTF8Names() throws {
        let dir = TemporaryDirectory()
        let root = try dir.handle()
        let strange = FileName([0x62, 0x61, 0x64, 0x83])  // "bad\x83"
        try root.createFile(strange).close()
        try root.makeDirectory(FileName("sub"))
        let names = try root.entries().map(\.name).sorted()
        #expect(names == [strange, FileName("sub")])
        #expect(try root.status(strange).kind == .regular)
        #expect(strange.description == "\"bad\\203\"")
    }

    @Test("many entries are read across several getdents64 calls")
    func largeDirectory() throws {
        let dir = TemporaryDirectory()
        let root = try dir.handle()
        let long = String(repeating: "n", count: 200)
        for i in 0..<2000 { try root.createFile(FileName("\(long)\(i)")).close() }
        #expect(try root.entries().count == 2000)
    }

    @Test("a scratch file reads back what was written and leaves no name behind")
    func scratchFile() throws {
        let dir = TemporaryDirectory()
        let root = try dir.handle()
        let file = try root.createScratchFile()
        defer { file.close() }
        try Array("scratch".utf8).withUnsafeBytes { try file.writeAll($0, at: 100) }
        var back = [UInt8](repeating: 0, count: 7)
        #expect(try back.withUnsafeMutableBytes { try file.readFully(into: $0, at: 100) } == 7)
        #expect(back == Array("scratch".utf8))
        #expect(try root.entries().isEmpty)
    }

    @Test("a symlink in place of a directory is not followed")
    func symlinkNotFollowed() throws {
        let dir = TemporaryDirectory()
        let root = try dir.handle()
        try root.makeDirectory(FileName("real"))
        try root.makeSymlink(FileName("link"), target: Array("real".utf8))
        #expect(throws: FileSystemError.self) { try root.openDirectory(FileName("link")) }
        #expect(try root.status(FileName("link")).kind == .symlink)
        #expect(try root.readSymlink(FileName("link")) == Array("real".utf8))
    }

    @Test("a long symlink target is read whole")
    func longSymlink() throws {
        let dir = TemporaryDirectory()
        let root = try dir.handle()
        let target = Array(String(repeating: "x/", count: 900).utf8)
        try root.makeSymlink(FileName("l"), target: target)
        #expect(try root.readSymlink(FileName("l")) == target)
    }

    @Test("removeTree deletes a nested tree with a read-only directory")
    func removeTree() throws {
        let dir = TemporaryDirectory()
        shell("mkdir -p '\(dir.path)/t/a/b' && touch '\(dir.path)/t/a/b/f' && chmod 555 '\(dir.path)/t/a'")
        let root = try dir.handle()
        try root.removeTree(FileName("t"))
        #expect(throws: FileSystemError.self) { try root.status(FileName("t")) }
    }

    @Test("errors carry the operation, the path and the errno")
    func errorContext() throws {
        let dir = TemporaryDirectory()
        let root = try dir.handle()
        do {
            _ = try root.status(FileName("missing"))
            Issue.record("stat of a missing file succeeded")
        } catch let error as FileSystemError {
            #expect(error.errno == .noSuchFileOrDirectory)
            #expect(error.operation == "stat")
            #expect(error.path == Array((dir.path + "/missing").utf8))
        }
    }

    @Test("path order puts a directory's entries right after it")
    func pathOrder() {
        let paths = ["a.b", "a", "a/z", "a/b/c", "a-b", "b"].map(RelativePath.init)
        #expect(paths.sorted().map(\.description) == ["a", "a/b/c", "a/z", "a-b", "a.b", "b"])
        #expect(RelativePath("a/b").isWithin(RelativePath("a")))
        #expect(!RelativePath("ab").isWithin(RelativePath("a")))
        #expect(!RelativePath("a/../b").isSafe)
        #expect(!RelativePath("/etc").isSafe)
        #expect(RelativePath("a/b").isSafe)
    }

    @Test("a path's parent is known without making it: a child, not a grandchild, a sibling or a longer name")
    func children() {
        let cases: [(String, String, Bool)] = [("a", "", true), ("a/b", "", false), ("", "", false), ("a/b", "a", true), ("a/b/c", "a", false),
                                               ("ab/c", "a", false), ("a/bc", "a/b", false), ("a/b/c", "a/b", true), ("a", "a", false)]
        for (path, parent, expected) in cases {
            #expect(RelativePath(path).isChild(of: RelativePath(parent)) == expected, "\(path) in \(parent)")
            #expect(RelativePath(path).isChild(of: RelativePath(parent)) == (!RelativePath(path).isRoot && RelativePath(path).parent == RelativePath(parent)))
        }
    }

    @Test("flock: a second exclusive lock is refused until the first is dropped")
    func locking() throws {
        let dir = TemporaryDirectory()
        let root = try dir.handle()
        var first = try FileLock.acquire(in: root, name: FileName("lock"), mode: .exclusive, wait: 0)
        #expect(first != nil)
        #expect(try FileLock.acquire(in: root, name: FileName("lock"), mode: .exclusive, wait: 0.1) == nil)
        #expect(try FileLock.acquire(in: root, name: FileName("lock"), mode: .shared, wait: 0) == nil)
        first = nil
        #expect(try FileLock.acquire(in: root, name: FileName("lock"), mode: .shared, wait: 0) != nil)
    }
}
