import EmuPOSIX

/// Who a source is, whatever its path: 32 hex digits made at `emu init`
/// (or at the first command that needs them, for a source made before),
/// kept in `SOURCE/.emu/identity`, which `init --force` leaves alone. Each
/// snapshot records it, and a sink belongs to the identity that first
/// pushed to it (see `SinkOwner`): a source that moves keeps its sinks, two
/// sources never share one by accident.
public enum SourceIdentity {
    package static let fileName = "identity"

    /// A new identity: 128 random bits.
    package static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// Whether `text` is an identity: what a client or a sink's file says is checked before it is used.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Refuses what a client or a file calls an identity and is none.
    package static func check(_ text: String) throws {
        guard isValid(text) else { throw EmuError.usage("a source identity is 32 hex digits, not \(text.prefix(40))", fix: "run emu on both sides") }
    }

    /// The identity in a source's `.emu/`, made there when missing.
    package static func ensure(in metadata: DirectoryHandle, sourcePath: String) throws -> String {
        if let text = try MetadataFile.read(in: metadata, fileName) {
            let identity = text.split(separator: "\n").first.map(String.init) ?? ""
            guard isValid(identity) else {
                throw EmuError.failed("\(sourcePath)/.emu/identity is not 32 hex digits",
                                       fix: "restore it from a backup of .emu/, or delete it: this source then gets a new identity, and `emu sink add --adopt` takes its sinks back")
            }
            return identity
        }
        let identity = make()
        try MetadataFile.write(in: metadata, fileName, identity + "\n")
        return identity
    }
}
