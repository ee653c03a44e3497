using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace TinyOdl.Cli;

/// <summary>System.CommandLine's parse errors as one line that names the option or argument.</summary>
internal static partial class ParseErrors
{
    public static string OneLine(ParseError error)
    {
        var message = Whitespace().Replace(error.Message.Replace(":\n", ": ").Replace("\n", ", "), " ").Trim();
        message = message.Replace(": , ", ": ").Replace(", ,", ",");
        message = TypeName().Replace(message, m => m.Groups[1].Value.Contains("Int32") ? "as an integer" : "as a value of the expected kind");
        string? name = error.SymbolResult switch
        {
            OptionResult o => o.Option.Name,
            ArgumentResult { Parent: OptionResult o } => o.Option.Name,
            ArgumentResult a => a.Argument.Name,
            _ => null,
        };
        return name is null || message.Contains(name, StringComparison.Ordinal) ? message : $"{name}: {message}";
    }

    [GeneratedRegex(@"[ \t]+")]
    private static partial Regex Whitespace();

    /// <summary>"as expected type 'System.Nullable`1[System.Int32]'": .NET's names mean nothing to a user.</summary>
    [GeneratedRegex(@"as expected type '([^']+)'")]
    private static partial Regex TypeName();
}
