@testable import EmuCore
import EmuPOSIX
import Foundation
import Glibc
import SystemPackage
import Testing

/// A seeded generator over everything emu parses from a sink, a source or
/// the command line: valid inputs mutated byte by byte (flips, inserts,
/// deletions, splices of the format's own tokens). A parser may reject an
/// input, with an error; it may never crash, hang or accept a path that
/// climbs out. `EMU_FUZZ_ITERATIONS` sets the count (`make torture` runs
/// many); `EMU_FUZZ_SEED` the seed. A crash found becomes a case below.
@Suite("fuzzing the parsers")
struct FuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["EMU_FUZZ_ITERATIONS"] ?? "") ?? 2_000
    static let seed = UInt64(ProcessInfo.processInfo.environment["EMU_FUZZ_SEED"] ?? "") ?? 20261127

    /// SplitMix64: the same seed, the same inputs, on any machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A mutation of `input` that keeps some of its shape.
    static func mutate(_ input: [UInt8], tokens: [[UInt8]], _ g: inout Generator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...6, using: &g) {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &g)
            switch Int.random(in: 0..<5, using: &g) {
            case 0 where !bytes.isEmpty: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &g))
            case 1: bytes.insert(UInt8.random(in: 0...255, using: &g), at: at)
            case 2 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...8, using: &g)))
            case 3: bytes.insert(contentsOf: tokens.randomElement(using: &g)!, at: at)
            default: bytes.insert(contentsOf: bytes[at...].prefix(Int.random(in: 0...16, using: &g)), at: at)
            }
        }
        return bytes
    }

    static let manifest = Array("""
        emu-manifest 1
        d\t755\t0\t0\t0\t1795779444.863109803\t1795779444.863109803\t16245367\t-\t-\t-\t
        l\t777\t0\t0\t15\t1795779444.863109803\t1795779444.863109803\t16245384\t-\t-\t/tmp/hm/outside\taaa_lnk
        f\t644\t0\t0\t2\t1795779444.863109803\t1795779444.863109803\t16245437\t73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac\t-\t-\taab
        d\t700\t1000\t1000\t0\t1795779444.1\t1795779444.2\t3\t-\t-\t-\td
        c\t600\t0\t0\t0\t1.0\t1.0\t4\t-\t-\t1,3\td/dev
        f\t644\t0\t0\t2\t1795779444.863109803\t1795779444.863109803\t16245437\t73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac\t-\taab\td/zzz
        end\t6

        """.utf8)

    @Test("the manifest reader rejects or reads every mutation, and never yields an unsafe or unordered path")
    func manifests() throws {
        var g = Generator(state: Self.seed)
        let tokens = ["\t", "\n", "/", "..", ".", "end\t", "-", "\\", "\\x83", "\u{0}", "99999999999999999999999"].map { Array($0.utf8) }
        let path = NSTemporaryDirectory() + "fuzz-manifest-\(getpid())"
        defer { unlink(path) }
        for _ in 0..<Self.iterations {
            let input = Self.mutate(Self.manifest, tokens: tokens, &g)
            _ = input.withUnsafeBytes { FileManager.default.createFile(atPath: path, contents: Data($0)) }
            var previous: RelativePath? = nil
            do {
                let reader = try ManifestReader(file: OpenFile(try FileDescriptor.open(path, .readOnly), path: []),
                                                allowsTruncation: Bool.random(using: &g))
                while let record = try reader.next() {
                    #expect(record.path.isSafe && (record.hardlinkLeader?.isSafe ?? true), "unsafe path from \(input)")
                    if let previous { #expect(previous < record.path) }
                    previous = record.path
                }
            } catch is EmuError {}
        }
    }

    @Test("the INI reader and the settings read from it reject or read every mutation")
    func records() {
        var g = Generator(state: Self.seed &+ 1)
        let valid = Array("""
            [Snapshot]
            date = 2026-11-21 09:15:00
            parent = 6b0969dc0123456789abcdef0123456789abcdef
            [Retention]
            keep-daily = 14
            keep-within = 36h
            min-free = 5%
            min-keep = 3
            [Snapshots]
            max-number = 7

            """.utf8)
        let tokens = ["[", "]", "=", "\n", "#", ";", "all", "-1", "99999999999999999999", "1e308", "mo"].map { Array($0.utf8) }
        for _ in 0..<Self.iterations {
            let text = String(decoding: Self.mutate(valid, tokens: tokens, &g), as: UTF8.self)
            guard let document = try? INIDocument(parsing: text) else { continue }
            _ = try? RetentionPolicy(config: document)
            _ = try? Snapshot(id: "6b0969dc0123456789abcdef0123456789abcdef", node: document)
        }
    }

    @Test("references and exclude rules reject or parse every mutation, and the rules match without crashing")
    func referencesAndExcludes() {
        var g = Generator(state: Self.seed &+ 2)
        let references = ["origin:HEAD~2", "HEAD^", "TAIL", "@2026-11-01T12:00", "6b09", "2026-11-21 09.15.00", "usb:@2026-11-01"]
        let rules = Array("- *.o\n+ /keep/**\n/build/\n**/cache/*.tmp\n[a-z]?.log\n# comment\n".utf8)
        let tokens = ["~", "^", ":", "@", "*", "**", "[", "]", "/", "\\", "!", "-", "+ ", "\n"].map { Array($0.utf8) }
        let snapshots = (0..<3).map { Snapshot(id: "6b0969d\($0)0123456789abcdef0123456789abcdef", parent: nil, date: Timestamp(seconds: 1_795_779_444 + Int64($0), nanoseconds: 0)) }
        for _ in 0..<Self.iterations {
            let text = String(decoding: Self.mutate(Array(references.randomElement(using: &g)!.utf8), tokens: tokens, &g), as: UTF8.self)
            if let reference = try? SnapshotReference(parsing: text, sinkNames: ["origin", "usb"]) {
                _ = try? reference.resolve(in: snapshots, sinkName: "origin")
            }
            let ruleText = String(decoding: Self.mutate(rules, tokens: tokens, &g), as: UTF8.self)
            if let parsed = try? ExcludeRules(parsing: ruleText, origin: "fuzz") {
                let path = RelativePath(Self.mutate(Array("keep/a/cache/x.tmp".utf8), tokens: tokens, &g).filter { $0 != 0 })
                _ = parsed.isExcluded(path, isDirectory: Bool.random(using: &g))
            }
        }
    }

    /// Crashes the generator found, kept as cases.
    @Test("found by fuzzing: a reference of '@.' or '@' is bad usage, not a crash", arguments: ["@.", "@", "@..", "@.5", "@5."])
    func foundReferences(_ text: String) {
        _ = try? SnapshotReference(parsing: text, sinkNames: [])
        #expect(Timestamp(exact: String(text.dropFirst())) == nil || text == "@5.")
    }

    @Test("found by fuzzing: a date with other scripts' digits, and a duration past Int64, are refused, not a crash")
    func foundDatesAndDurations() {
        #expect(Timestamp.parse("2026-1\u{0663}-01") == nil)
        #expect(Timestamp.parse("2026-\u{00BD}-01") == nil)
        #expect(throws: EmuError.self) { try RetentionPolicy.parseDuration("99999999999999999y") }
        #expect(throws: EmuError.self) { try RetentionPolicy.parseDuration("999999999999999999") }
    }
}
