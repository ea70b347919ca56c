@testable import EmuCore
import Foundation
import Testing
@testable import EmuRecords
@testable import EmuRemote

@Suite("templates")
struct TemplatesTests {
    @Test("the templates built into the binary are share/emu/templates (run scripts/templates.py after editing those)")
    func builtInMatchesShare() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared = try Templates.read(repository.appendingPathComponent("share/emu/templates").path)
        #expect(shared == Templates.builtIn)
        #expect(shared.contains { $0.path == "hooks/push/log.post.sample" && $0.permissions == 0o755 })
    }
}
