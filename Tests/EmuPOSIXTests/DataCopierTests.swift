import EmuPOSIX
import Foundation
import Glibc
import SystemPackage
import Testing

@Suite("Copying data")
struct DataCopierTests {
    func makeSparse(_ dir: TemporaryDirectory) throws -> DirectoryHandle {
        // 4 MiB hole, 6 bytes of data, 4 MiB hole, 4 bytes at the end.
        shell("cd '\(dir.path)' && printf 'middle' | dd of=sparse bs=1 seek=4194304 conv=notrunc status=none && truncate -s 8388608 sparse && printf 'tail' >> sparse")
        return try dir.handle()
    }

    func contents(_ fd: OpenFile) throws -> [UInt8] {
        _ = try fd.descriptor.seek(offset: 0, from: .start)
        return try fd.readToEnd()
    }

    @Test("holes stay holes, and every byte (holes as zeros) passes through consume")
    func sparseCopy() throws {
        let dir = TemporaryDirectory()
        let root = try makeSparse(dir)
        let input = try root.openForReading(FileName("sparse"))
        defer { input.close() }
        let output = try root.createFile(FileName("copy"))
        var seen = 0
        var nonZero: [UInt8] = []
        let length = try DataCopier(bufferSize: 64 * 1024).copy(from: input, to: output) { chunk in
            seen += chunk.count
            nonZero += chunk.filter { $0 != 0 }
        }
        output.close()
        #expect(length == 8_388_612)
        #expect(seen == 8_388_612)
        #expect(nonZero == Array("middletail".utf8))
        let copied = try root.status(FileName("copy"))
        #expect(copied.size == 8_388_612)
        #expect(copied.blocks * 512 < 1024 * 1024, "the copy should keep its holes")
        let reread = try root.openForReading(FileName("copy"))
        defer { reread.close() }
        let original = try root.openForReading(FileName("sparse"))
        defer { original.close() }
        #expect(try contents(reread) == contents(original))
    }

    @Test("copy_file_range copies data ranges only and keeps holes")
    func kernelCopy() throws {
        let dir = TemporaryDirectory()
        let root = try makeSparse(dir)
        let input = try root.openForReading(FileName("sparse"))
        defer { input.close() }
        let output = try root.createFile(FileName("copy"))
        let length = try DataCopier().copyInKernel(from: input, to: output)
        output.close()
        #expect(length == 8_388_612)
        let copied = try root.status(FileName("copy"))
        #expect(copied.size == 8_388_612)
        #expect(copied.blocks * 512 < 1024 * 1024)
    }

    @Test("an empty file and a file of only a hole copy right")
    func emptyAndAllHole() throws {
        let dir = TemporaryDirectory()
        shell("cd '\(dir.path)' && : > empty && truncate -s 1000000 hole")
        let root = try dir.handle()
        for name in ["empty", "hole"] {
            let input = try root.openForReading(FileName(name))
            let output = try root.createFile(FileName(name + ".copy"))
            var count = 0
            let length = try DataCopier().copy(from: input, to: output) { count += $0.count }
            input.close()
            output.close()
            let expected: Int64 = name == "empty" ? 0 : 1_000_000
            #expect(length == expected)
            #expect(Int64(count) == expected)
            #expect(try root.status(FileName(name + ".copy")).size == expected)
        }
    }

    @Test("readFully loops over short reads until the writer closes")
    func partialReads() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let reader = OpenFile(FileDescriptor(rawValue: fds[0]), path: [])
        let writerFD = fds[1]
        let thread = Thread {
            for byte in 0..<100 {
                var b = UInt8(byte)
                _ = write(writerFD, &b, 1)
                usleep(200)
            }
            close(writerFD)
        }
        thread.start()
        var buffer = [UInt8](repeating: 0, count: 1000)
        let n = try buffer.withUnsafeMutableBytes { try reader.readFully(into: $0) }
        reader.close()
        #expect(n == 100)
        #expect(Array(buffer[..<100]) == (0..<100).map { UInt8($0) })
    }

    @Test("a read interrupted by a signal (EINTR) is retried, not failed")
    func interruptedRead() throws {
        // A handler without SA_RESTART makes the blocked read fail with EINTR.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        sigaction(SIGUSR1, &action, &previous)
        defer { sigaction(SIGUSR1, &previous, nil) }

        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let reader = OpenFile(FileDescriptor(rawValue: fds[0]), path: [])
        let writerFD = fds[1]
        let target = pthread_self()
        let thread = Thread {
            usleep(100_000)
            pthread_kill(target, SIGUSR1)  // interrupts the blocked read
            usleep(100_000)
            var bytes: [UInt8] = [1, 2, 3]
            _ = write(writerFD, &bytes, 3)
            close(writerFD)
        }
        thread.start()
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = try buffer.withUnsafeMutableBytes { try reader.readFully(into: $0) }
        reader.close()
        #expect(n == 3)
    }
}
