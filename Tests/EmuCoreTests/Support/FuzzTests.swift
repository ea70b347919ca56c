@testable import EmuCore
import EmuPOSIX
import Foundation
import Glibc
import SystemPackage
import Testing
@testable import EmuRecords
@testable import EmuRemote

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

    /// `parse`'s result, or nil where it refused: a refusal must be an
    /// `EmuError` (a message and a fix for the user), never another error.
    static func readOrRefused<T>(_ what: String, _ input: String, _ parse: () throws -> T) -> T? {
        do { return try parse() } catch is EmuError { return nil } catch {
            Issue.record("\(what) refused \(input.debugDescription) with \(error), not an EmuError")
            return nil
        }
    }

    @Test("the INI reader and the settings read from it reject or read every mutation, and what they read holds together")
    func records() {
        var g = Generator(state: Self.seed &+ 1)
        let valid = Array("""
            [Snapshot]
            name = 2026-11-21 09.15.00
            timestamp = 1795779444.863109803
            parent = 6b0969dc0123456789abcdef0123456789abcdef
            size = 3400
            [Tree]
            files = 12
            bytes = 3400
            skipped = 1
            unique-size = 3400
            [Retention]
            keep-daily = 14
            keep-within = 36h
            min-free = 5%
            min-keep = 3
            [Snapshots]
            max-number = 7

            """.utf8)
        let tokens = ["[", "]", "=", "\n", "#", ";", "all", "-1", "99999999999999999999", "1e308", "mo", "-"].map { Array($0.utf8) }
        let id = "6b0969dc0123456789abcdef0123456789abcdef"
        for _ in 0..<Self.iterations {
            let text = String(decoding: Self.mutate(valid, tokens: tokens, &g), as: UTF8.self)
            guard let document = Self.readOrRefused("the INI reader", text, { try INIDocument(parsing: text) }) else { continue }
            #expect((try? INIDocument(parsing: document.text)) == document, "written back, \(text.debugDescription) reads back the same")
            if let policy = Self.readOrRefused("the retention policy", text, { try RetentionPolicy(config: document) }) {
                let counts = [policy.keepLast, policy.keepHourly, policy.keepDaily, policy.keepWeekly, policy.keepMonthly, policy.keepYearly,
                              policy.maxNumber].compactMap { $0 }
                #expect(counts.allSatisfy { $0 >= 0 } && (policy.keepWithin ?? 0) >= 0 && policy.minKeep >= 1, "\(text.debugDescription)")
                #expect((policy.minFreePercent ?? 0) >= 0 && (policy.minFreePercent ?? 0) <= 100, "\(text.debugDescription)")
            }
            if let snapshot = Self.readOrRefused("a snapshot's record", text, { try Snapshot(id: id, node: document) }) {
                let c = snapshot.counts
                #expect(snapshot.id == id && snapshot.parent.map { !$0.isEmpty } != false)
                #expect([c.files, c.directories, c.symlinks, c.specials, c.filesCopied, c.filesLinked, c.skipped].allSatisfy { $0 >= 0 }
                        && c.bytes >= 0 && c.bytesCopied >= 0 && (snapshot.uniqueBytes ?? 0) >= 0, "a count below zero from \(text.debugDescription)")
            }
        }
    }

    @Test("references and exclude rules reject or parse every mutation; a reference names one of the snapshots; the first rule wins")
    func referencesAndExcludes() {
        var g = Generator(state: Self.seed &+ 2)
        let references = ["origin:HEAD~2", "HEAD^", "TAIL", "@2026-11-01T12:00", "6b09", "2026-11-21 09.15.00", "usb:@2026-11-01"]
        let rules = Array("- *.o\n+ /keep/**\n/build/\n**/cache/*.tmp\n[a-z]?.log\n# comment\n".utf8)
        let tokens = ["~", "^", ":", "@", "*", "**", "[", "]", "/", "\\", "!", "-", "+ ", "\n"].map { Array($0.utf8) }
        let snapshots = (0..<3).map { Snapshot(id: "6b0969d\($0)0123456789abcdef0123456789abcdef", parent: nil, date: Timestamp(seconds: 1_795_779_444 + Int64($0), nanoseconds: 0)) }
        for _ in 0..<Self.iterations {
            let text = String(decoding: Self.mutate(Array(references.randomElement(using: &g)!.utf8), tokens: tokens, &g), as: UTF8.self)
            if let reference = Self.readOrRefused("the reference parser", text, { try SnapshotReference(parsing: text, sinkNames: ["origin", "usb"]) }),
               let found = Self.readOrRefused("resolving a reference", text, { try reference.resolve(in: snapshots, sinkName: "origin") }) {
                #expect(snapshots.contains { $0.id == found.id }, "\(text.debugDescription) resolved to a snapshot that is not there")
            }
            let ruleText = String(decoding: Self.mutate(rules, tokens: tokens, &g), as: UTF8.self)
            guard Self.readOrRefused("the excludes parser", ruleText, { try ExcludeRules(parsing: ruleText, origin: "fuzz") }) != nil else { continue }
            let bytes = Self.mutate(Array("keep/a/cache/x.tmp".utf8), tokens: tokens, &g).filter { $0 != 0 }
            let path = RelativePath(bytes)
            let isDirectory = Bool.random(using: &g)
            // Whatever the fuzzed rules say, a rule in front of them that matches every name decides.
            guard !bytes.isEmpty, !bytes.split(separator: 0x2F, omittingEmptySubsequences: false).contains(where: \.isEmpty) else { continue }
            let excludeAll = try? ExcludeRules(parsing: "- *\n" + ruleText, origin: "fuzz")
            let includeAll = try? ExcludeRules(parsing: "+ *\n" + ruleText, origin: "fuzz")
            #expect(excludeAll?.isExcluded(path, isDirectory: isDirectory) == true, "- * first: \(ruleText.debugDescription) kept \(bytes)")
            #expect(includeAll?.isExcluded(path, isDirectory: isDirectory) == false, "+ * first: \(ruleText.debugDescription) left out \(bytes)")
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
