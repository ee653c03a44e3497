using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.CliTests;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>Assertions for how the CLI fails on bad input, and folder snapshots to show nothing was touched.</summary>
internal static class CliExpect
{
    /// <summary>For Cli.Run(folder, env, args) without extra environment (a bare null is ambiguous with the params overload).</summary>
    public static readonly IReadOnlyDictionary<string, string>? NoEnv = null;

    /// <summary>
    /// Exit code 2, exactly one line on stderr containing every fragment (the file/node/field and the reason),
    /// no stack trace anywhere.
    /// </summary>
    public static string UserError(Cli.Result r, params string[] fragments)
    {
        string all = $"exit {r.ExitCode}\n--- stdout ---\n{r.Stdout}\n--- stderr ---\n{r.Stderr}";
        Assert.True(r.ExitCode == 2, $"expected exit code 2 for a user error, got {all}");
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stdout);
        Assert.DoesNotContain("Exception", r.Stderr);
        var lines = r.Stderr.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1 && lines[0].Length > 0, $"expected exactly one line on stderr, got {lines.Length}: {all}");
        foreach (var f in fragments)
            Assert.True(lines[0].Contains(f, StringComparison.Ordinal), $"stderr line does not mention '{f}': {lines[0]}");
        return lines[0];
    }

    /// <summary>
    /// CLI output with every run of whitespace collapsed to one space: Spectre.Console hard-wraps at 80 columns when
    /// stdout is not a terminal (COLUMNS is not honoured), so a sentence may be split over lines.
    /// </summary>
    public static string Flat(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"\s+", " ");

    /// <summary>The folder holds exactly these entries (top level): no output folder, no .NAME.tinyodl-PID staging folder.</summary>
    public static void OnlyEntries(string folder, params string[] names)
    {
        var actual = Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(names.Order(StringComparer.Ordinal).ToArray(), actual);
    }

    /// <summary>Relative path to SHA-256 of every file and folder under <paramref name="folder"/>.</summary>
    public static SortedDictionary<string, string> Snapshot(string folder)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(folder, entry);
            result[rel] = Directory.Exists(entry) ? "<dir>" : Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(entry)));
        }
        return result;
    }

    /// <summary>A small valid model (7 -> 5 -> 3, MSE) with no data set: verify mode uses synthetic data.</summary>
    public static JsonObject SmallModel(string name = "small") => new()
    {
        ["name"] = name,
        ["seed"] = 3,
        ["input"] = new JsonObject { ["shape"] = new JsonArray(7) },
        ["layers"] = new JsonArray(
            new JsonObject { ["name"] = "fc1", ["op"] = "linear", ["out_features"] = 5 },
            new JsonObject { ["name"] = "relu1", ["op"] = "relu" },
            new JsonObject { ["name"] = "fc2", ["op"] = "linear", ["out_features"] = 3 }),
        ["loss"] = new JsonObject { ["op"] = "mse" },
        ["optimizer"] = new JsonObject { ["op"] = "sgd", ["learning_rate"] = 0.1 },
    };

    public static JsonObject Layer(JsonObject model, int index) => model["layers"]![index]!.AsObject();
}
