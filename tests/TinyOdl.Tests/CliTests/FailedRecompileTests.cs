using System.Text.Json.Nodes;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.CliTests;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>
/// An output folder from an earlier successful compile survives later compiles that fail, whatever stage they
/// fail in (JSON parsing, shape checks, the arena check, loading the data set): same files, same bytes, still runnable.
/// </summary>
public sealed class FailedRecompileTests(TinyRamHome tinyRam) : IClassFixture<TinyRamHome>
{
    [Fact]
    public void Previous_output_folder_is_intact_after_failed_compiles()
    {
        using var tmp = new TempDir();
        var good = tmp.File("good.json");
        File.WriteAllText(good, CliExpect.SmallModel().ToJsonString());
        var first = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "good.json", "-o", "out", "--verify-steps", "3");
        Assert.True(first.ExitCode == 0, $"first compile failed: {first.Stderr}");
        var before = CliExpect.Snapshot(tmp.File("out"));
        Assert.Contains("tinyodl.json", before.Keys);
        Assert.Contains("model.c", before.Keys);

        var failures = new List<(string What, string File, string[] Args, IReadOnlyDictionary<string, string>? Env)>();

        File.WriteAllText(tmp.File("truncated.json"), CliExpect.SmallModel().ToJsonString()[..60]);
        failures.Add(("truncated JSON", "truncated.json", [], null));

        var mismatch = CliExpect.SmallModel();
        CliExpect.Layer(mismatch, 0)["in_features"] = 4;
        File.WriteAllText(tmp.File("mismatch.json"), mismatch.ToJsonString());
        failures.Add(("shape mismatch", "mismatch.json", [], null));

        var noData = CliExpect.SmallModel();
        noData["training"] = new JsonObject { ["dataset"] = new JsonObject { ["csv"] = "gone.csv", ["classes"] = 3 } };
        File.WriteAllText(tmp.File("nodata.json"), noData.ToJsonString());
        failures.Add(("missing data set", "nodata.json", [], null));

        var big = CliExpect.SmallModel();
        big["input"]!["shape"] = new JsonArray(200);
        CliExpect.Layer(big, 0)["out_features"] = 40;
        File.WriteAllText(tmp.File("big.json"), big.ToJsonString());
        failures.Add(("arena too large", "big.json", ["--board", TinyRamHome.BoardName], tinyRam.Env));

        failures.Add(("unknown board", "good.json", ["--board", "no-such-board"], null));

        foreach (var (what, file, args, env) in failures)
        {
            var r = Cli.Run(tmp.Path, env, ["compile", file, "-o", "out", .. args]);
            Assert.True(r.ExitCode == 2, $"{what}: expected exit 2, got {r.ExitCode}: {r.Stderr}");
            Assert.True(before.SequenceEqual(CliExpect.Snapshot(tmp.File("out"))), $"{what}: the earlier output folder changed");
            Assert.DoesNotContain(Directory.EnumerateDirectories(tmp.Path), d => Path.GetFileName(d).StartsWith('.'));
        }

        // Not only the same bytes: still a working program.
        var run = Cli.Run(tmp.Path, CliExpect.NoEnv, "run", "out");
        Assert.True(run.ExitCode == 0, $"run of the earlier folder failed: {run.Stdout}\n{run.Stderr}");
        Assert.Contains("Bit-exact against the C# evaluator: yes", CliExpect.Flat(run.Stdout));
    }

    [Fact]
    public void A_successful_recompile_replaces_the_folder_without_leftovers()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("a.json"), CliExpect.SmallModel("first_model").ToJsonString());
        File.WriteAllText(tmp.File("b.json"), CliExpect.SmallModel("second_model").ToJsonString());
        Assert.Equal(0, Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "a.json", "-o", "out", "--verify-steps", "2").ExitCode);
        File.WriteAllText(Path.Combine(tmp.File("out"), "stale.txt"), "from the first compile");

        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "b.json", "-o", "out", "--verify-steps", "2", "--backend", "llvm");

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.False(File.Exists(Path.Combine(tmp.File("out"), "stale.txt")));
        Assert.False(File.Exists(Path.Combine(tmp.File("out"), "model.c")));
        Assert.True(File.Exists(Path.Combine(tmp.File("out"), "model.ll")));
        Assert.Contains("second_model", File.ReadAllText(Path.Combine(tmp.File("out"), "tinyodl.json")));
        CliExpect.OnlyEntries(tmp.Path, "a.json", "b.json", "out");
    }
}
