import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

/// What people type from git's habits, made into what emu's parser takes,
/// and the words for a command name that is not one.
enum CommandLineHabits {
    /// `emu log -3` and `-n3` as `-n 3`; an unknown command or `emu help
    /// NAME` for one refused with the closest command named.
    static func normalized(_ arguments: [String]) throws -> [String] {
        // Options come after the command; the root's own (--version, -h,
        // --generate-completion-script, the shell's ---completion) go as they are.
        guard let name = arguments.first, !name.hasPrefix("-") else { return arguments }
        if name == "help", arguments.count > 1 {
            let topic = arguments[1]
            if !topic.hasPrefix("-") && !commandNames.contains(topic) { throw unknownCommand(topic) }
            try checkSubcommand(arguments.dropFirst())
            return arguments
        }
        guard commandNames.contains(name) else {
            throw unknownCommand(name)
        }
        try checkSubcommand(arguments[...])
        guard name == "log" else { return arguments }
        var result: [String] = []
        var afterTerminator = false
        for argument in arguments {
            if argument == "--" { afterTerminator = true }
            if !afterTerminator, argument.count > 1, argument.hasPrefix("-"), argument.dropFirst().allSatisfy(\.isASCIIDigit) {
                result += ["-n", String(argument.dropFirst())]
            } else if !afterTerminator, argument.count > 2, argument.hasPrefix("-n"), argument.dropFirst(2).allSatisfy(\.isASCIIDigit) {
                result += ["-n", String(argument.dropFirst(2))]
            } else {
                result.append(argument)
            }
        }
        return result
    }

    static let commandNames: [String] = ["help"] + Emu.configuration.subcommands.map { $0._commandName }

    static func unknownCommand(_ name: String) -> EmuError {
        let best = commandNames.filter { $0 != "help" }.min { distance(name, $0) < distance(name, $1) }
        let hint = best.flatMap { distance(name, $0) <= max(2, name.count / 2) ? "did you mean `emu \($0)`?" : nil }
        return .usage("\(RelativePath(name).quotedForMessage) is not an emu command" + (hint.map { "; \($0)" } ?? ""),
                      fix: "`emu --help` lists the commands")
    }

    /// `emu sink ad x`, `emu help sink ad`: a word where a command's own
    /// commands go that names none of them is refused with the closest one
    /// (the parser said "2 unexpected arguments" with another command's usage,
    /// and help showed the parent's page with status 0).
    static func checkSubcommand(_ words: ArraySlice<String>) throws {
        guard let first = words.first, let command = Emu.configuration.subcommands.first(where: { $0._commandName == first }) else { return }
        let names = command.configuration.subcommands.map { $0._commandName }
        guard !names.isEmpty, let word = words.dropFirst().first, !word.hasPrefix("-"), !names.contains(word) else { return }
        let synonyms = ["remove": "rm", "delete": "rm", "ls": "list", "new": "add"]
        let best = synonyms[word].flatMap { names.contains($0) ? $0 : nil } ?? names.min { distance(word, $0) < distance(word, $1) }
        let hint = best.flatMap { synonyms[word] == $0 || distance(word, $0) <= max(2, word.count / 2) ? "did you mean `emu \(first) \($0)`?" : nil }
        throw EmuError.usage("\(RelativePath(word).quotedForMessage) is not an `emu \(first)` command" + (hint.map { "; \($0)" } ?? ""),
                             fix: "`emu \(first) --help` lists them: \(names.joined(separator: ", "))")
    }

    /// Edit distance (insertions, deletions, substitutions), for suggestions.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        guard !x.isEmpty, !y.isEmpty else { return max(x.count, y.count) }
        var previous = Array(0...y.count)
        for i in 1...x.count {
            var current = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count]
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
