using System.Text;
using TinyOdl.Data;
using TinyOdl.Targets;
using Xunit.Abstractions;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>
/// Real compilers, real QEMU: every model of <see cref="ModelMatrix"/> with every <see cref="BuildCombo.All"/>
/// entry must reproduce the C# evaluator's losses, parameters and predictions bit for bit, and must build
/// without a single warning.
/// </summary>
public sealed partial class ModelMatrixTests(ModelMatrixFixture fixture, ITestOutputHelper output) : IClassFixture<ModelMatrixFixture>
{
    public static IEnumerable<object[]> ModelsAndCombos() => ModelMatrixFixture.ModelsAndCombos();
    public static IEnumerable<object[]> Models() => ModelMatrixFixture.Models();

    [Theory]
    [MemberData(nameof(ModelsAndCombos))]
    public void Device_output_is_bit_exact_against_the_evaluator(string model, string combo)
    {
        var outcome = fixture.Outcome(model, combo);
        Assert.True(outcome.Error is null, $"{model} with {outcome.Combo.Name}: {outcome.Error}");
        var run = outcome.Run!;
        Assert.True(run.Succeeded,
            $"{model} with {outcome.Combo.Name}: program failed with exit status {run.ExitCode}\nstdout:\n{Tail(run.Stdout)}\nstderr:\n{Tail(run.Stderr)}");

        var expected = fixture.Case(model).Expected;
        var mismatches = Protocol.Compare(expected, run.Lines);
        Assert.True(mismatches.Count == 0,
            $"{model} with {outcome.Combo.Name}: {mismatches.Count} mismatches against the C# evaluator:\n  " +
            string.Join("\n  ", mismatches.Take(20)));
    }

    [Theory]
    [MemberData(nameof(ModelsAndCombos))]
    public void Generated_program_builds_warning_free_with_Werror(string model, string combo)
    {
        var outcome = fixture.Outcome(model, combo);
        Assert.True(outcome.WerrorExitCode == 0,
            $"{model}: `make TOOLCHAIN={outcome.Combo.Toolchain} OPT={outcome.Combo.Opt} EXTRA_CFLAGS=-Werror all` " +
            $"exited {outcome.WerrorExitCode}:\n{Tail(outcome.WerrorOutput)}");
        // Warnings -Werror does not turn into errors (linker, llc) must not appear either.
        Assert.DoesNotContain("warning", outcome.WerrorOutput, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Expected_output_has_the_shape_the_plan_asks_for(string model)
    {
        var c = fixture.Case(model);
        Assert.True(c.SetupError is null, $"{model}: {c.SetupError}");
        var plan = c.Plan!;
        var program = c.Compiled!.Program;
        var lines = c.Expected;

        Assert.Equal("model", lines[0].Keyword);
        Assert.Equal(model, lines[0].Fields[0]);
        Assert.Equal("done", lines[^1].Keyword);
        Assert.Equal(program.Parameters.Count, lines.Count(l => l.Keyword == "param"));
        if (plan.IsVerify)
        {
            Assert.Equal(c.Case.Steps, lines.Count(l => l.Keyword == "step"));
            Assert.Equal(Math.Min(plan.Test.Count, RunPlan.VerifyPredictions), lines.Count(l => l.Keyword == "predict"));
            Assert.DoesNotContain(lines, l => l.Keyword == "epoch");
        }
        else
        {
            Assert.Equal(c.Case.Epochs, lines.Count(l => l.Keyword == "epoch"));
            Assert.DoesNotContain(lines, l => l.Keyword is "step" or "predict");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Frozen_parameters_come_back_unchanged_and_trained_ones_change(string model)
    {
        var c = fixture.Case(model);
        Assert.True(c.SetupError is null, $"{model}: {c.SetupError}");
        var compiled = c.Compiled!;
        var outcome = fixture.Outcome(model, "gcc-O2");
        Assert.True(outcome.Run is { Succeeded: true }, $"{model}: gcc -O2 run failed: {outcome.Error}");
        foreach (var p in compiled.Model.Parameters)
        {
            var line = outcome.Run!.Lines.Single(l => l.Keyword == "param" && l.Fields[0] == p.Name);
            var initial = p.Initial.Select(Protocol.Hex).ToArray();
            var final = line.Fields.Skip(2).ToArray();
            Assert.Equal(initial.Length, final.Length);
            if (p.Trainable)
                Assert.False(initial.SequenceEqual(final), $"{model}: trainable parameter {p.Name} did not change");
            else
                Assert.True(initial.SequenceEqual(final), $"{model}: frozen parameter {p.Name} changed on the device");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Instruction_counters_are_plausible(string model)
    {
        var table = new StringBuilder($"{model}: instructions retired by the first training step\n");
        var counts = new Dictionary<string, ulong>();
        foreach (var combo in BuildCombo.All)
        {
            var outcome = fixture.Outcome(model, ModelMatrixFixture.Key(combo));
            Assert.True(outcome.Run is { Succeeded: true }, $"{model} with {combo.Name}: run failed ({outcome.Error?.Message})");
            ulong first;
            if (fixture.Case(model).Case.IsTraining)
            {
                var epochs = outcome.Run!.Lines.Where(l => l.Keyword == "epoch").ToArray();
                Assert.NotEmpty(epochs);
                foreach (var e in epochs)
                {
                    Assert.True(e.UInt("instret_min") > 0, $"{combo.Name}: {e}");
                    Assert.InRange(e.UInt("instret_first"), e.UInt("instret_min"), e.UInt("instret_max"));
                    Assert.True(e.UInt("cycles_first") >= e.UInt("instret_first"), $"{combo.Name}: {e}");
                }
                first = epochs[0].UInt("instret_first");
            }
            else
            {
                var steps = outcome.Run!.Lines.Where(l => l.Keyword == "step").ToArray();
                Assert.NotEmpty(steps);
                foreach (var s in steps)
                {
                    Assert.True(s.UInt("instret") > 0, $"{combo.Name}: {s}");
                    Assert.True(s.UInt("cycles") >= s.UInt("instret"), $"{combo.Name}: cycles below instret in '{s}'");
                }
                first = steps[0].UInt("instret");
            }
            counts[ModelMatrixFixture.Key(combo)] = first;
            table.AppendLine($"  {combo.Name,-28} {first,9:N0}   (build+run {outcome.Elapsed.TotalSeconds:F1} s)");
        }
        output.WriteLine(table.ToString());
        Assert.True(counts["gcc-O0"] > counts["gcc-O2"],
            $"{model}: GCC -O0 ({counts["gcc-O0"]}) should retire more instructions per step than GCC -O2 ({counts["gcc-O2"]})");
    }

    private static string Tail(string s, int lines = 40)
    {
        var all = s.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
