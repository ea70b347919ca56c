@testable import EmuCore
import EmuPOSIX
import Foundation
import Glibc
import Testing
@testable import EmuRecords
@testable import EmuRemote

@Suite("Checkout's staged tree")
struct StagedCheckoutTests {
    @Test("moving a staged entry into place never replaces one that appeared there meanwhile")
    func moveNeverReplaces() throws {
        let root = NSTemporaryDirectory() + "emu-move-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/staging", withIntermediateDirectories: true)
        try "staged".write(toFile: root + "/staging/a", atomically: false, encoding: .utf8)
        try "staged".write(toFile: root + "/staging/b", atomically: false, encoding: .utf8)
        try "the user's".write(toFile: root + "/a", atomically: false, encoding: .utf8)
        let staging = try DirectoryHandle.open(root + "/staging"), destination = try DirectoryHandle.open(root)
        #expect(throws: FileSystemError.self) { try StagedCheckout.move(FileName("a"), from: staging, to: destination) }
        #expect(try String(contentsOfFile: root + "/a", encoding: .utf8) == "the user's")
        try StagedCheckout.move(FileName("b"), from: staging, to: destination)
        #expect(try String(contentsOfFile: root + "/b", encoding: .utf8) == "staged")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/staging") == ["a"])
    }
}
