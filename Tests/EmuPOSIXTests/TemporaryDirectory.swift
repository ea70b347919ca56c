import EmuPOSIX
import Foundation
import Glibc

/// One real temporary directory per test, removed afterwards unless
/// EMU_KEEP_TEST_DIRS is set (then its path is printed).
final class TemporaryDirectory {
    let path: String

    init(_ label: String = "emu-posix") {
        var template = Array("/tmp/\(label).XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit {
        if ProcessInfo.processInfo.environment["EMU_KEEP_TEST_DIRS"] != nil {
            print("kept \(path)")
        } else {
            _ = try? FileManager.default.removeItem(atPath: path)
        }
    }

    func handle() throws -> DirectoryHandle { try DirectoryHandle.open(path) }

    func write(_ name: String, _ text: String) {
        _ = FileManager.default.createFile(atPath: path + "/" + name, contents: Data(text.utf8))
    }
}

/// Runs a command for a test's setup (setfacl, mkfifo); returns its status.
@discardableResult
func shell(_ command: String) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    try? process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
