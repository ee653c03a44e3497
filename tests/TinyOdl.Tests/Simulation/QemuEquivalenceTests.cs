using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using TinyOdl.Simulation;
using TinyOdl.Targets;
using Xunit.Abstractions;

namespace TinyOdl.Tests.Simulation;

/// <summary>
/// The simulator against QEMU on the ELF files TinyOdl builds (<see cref="EquivalenceFixture.Programs"/>): the
/// same stdout byte for byte, the same exit status, and the same retired-instruction counts (every instret/cycles
/// field the harness prints, i.e. minstret and mcycle deltas under <c>-icount shift=0</c>). Prints the table.
/// </summary>
public sealed class QemuEquivalenceTests(EquivalenceFixture fixture, ITestOutputHelper output) : IClassFixture<EquivalenceFixture>
{
    public static IEnumerable<object[]> Names() => EquivalenceFixture.Programs.Select(p => new object[] { p.Name });

    [Fact]
    public void Equivalence_table()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"QEMU equivalence, {fixture.Outcomes.Count} programs, {fixture.Elapsed.TotalSeconds:F1} s (build + QEMU + simulator):");
        sb.AppendLine("| program | stdout equal | exit equal (QEMU/sim) | instret equal | counters compared | instructions retired | sim s | QEMU s |");
        sb.AppendLine("| --- | --- | --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var o in fixture.Outcomes)
        {
            if (o.Error is not null || o.Sim is null)
            {
                sb.AppendLine($"| {o.Program.Name} | error: {o.Error?.Message.Split('\n')[0]} | | | | | | |");
                continue;
            }
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {o.Program.Name} | {Yes(o.StdoutEqual)} | {Yes(o.ExitEqual)} ({o.QemuExit}/{o.Sim.ExitStatus}) | {Yes(o.InstretEqual)} | " +
                $"{EquivalenceOutcome.Counters(o.QemuStdout).Count} | {o.Sim.Instret:N0} | {o.Sim.Elapsed.TotalSeconds:F2} | {o.QemuTime.TotalSeconds:F2} |");
        }
        output.WriteLine(sb.ToString());
    }

    private static string Yes(bool b) => b ? "yes" : "NO";

    [Theory]
    [MemberData(nameof(Names))]
    public void Simulator_matches_qemu(string name)
    {
        var o = fixture.Outcomes.Single(x => x.Program.Name == name);
        Assert.True(o.Error is null, $"{name}: {o.Error}");
        Assert.NotNull(o.Sim);
        Assert.True(o.QemuStdout.Length > 0 && o.QemuStdout.EndsWith('\n'), $"{name}: QEMU printed nothing useful: {o.QemuStdout}");
        if (!o.StdoutEqual)
        {
            var q = o.QemuStdout.Split('\n');
            var s = o.SimStdout.Split('\n');
            int i = 0;
            while (i < Math.Min(q.Length, s.Length) && q[i] == s[i]) i++;
            Assert.Fail($"{name}: stdout differs at line {i + 1}:\n  QEMU: {Cut(i < q.Length ? q[i] : "(end)")}\n  sim:  {Cut(i < s.Length ? s[i] : "(end)")}\n" +
                $"  sim stop: {o.Sim.Stop} {o.Sim.Report} first trap: {o.Sim.FirstTrap}");
        }
        Assert.Equal(o.QemuExit, o.Sim.ExitStatus);
        Assert.Equal(EquivalenceOutcome.Counters(o.QemuStdout), EquivalenceOutcome.Counters(o.SimStdout));
        Assert.True(EquivalenceOutcome.Counters(o.QemuStdout).Count > 0 || o.Program.IsSelfTest, $"{name}: no counters to compare");
        if (o.Program.SelfTestMode == 1) Assert.Contains("trap 2 ", o.SimStdout);
    }

    private static string Cut(string s) => s.Length > 300 ? s[..300] + "..." : s;

    private static readonly Regex Registers = new(@"\b(zero|ra|sp|gp|tp|t[0-6]|s1[01]|s[0-9]|a[0-7]|ft1[01]|ft[0-9]|fs1[01]|fs[0-9]|fa[0-7]|v[0-9]+)\b");

    /// <summary>llvm-objdump's no-aliases name of a compressed instruction, as the instruction it expands to.</summary>
    private static string Expanded(string mnemonic) => mnemonic switch
    {
        "c.mv" or "c.add" => "add",
        "c.li" or "c.addi" or "c.addi16sp" or "c.addi4spn" or "c.nop" => "addi",
        "c.j" or "c.jal" => "jal",
        "c.jr" or "c.jalr" => "jalr",
        "c.beqz" => "beq",
        "c.bnez" => "bne",
        "c.lwsp" => "lw",
        "c.swsp" => "sw",
        "c.flwsp" => "flw",
        "c.fswsp" => "fsw",
        _ => mnemonic.StartsWith("c.", StringComparison.Ordinal) ? mnemonic[2..] : mnemonic,
    };

    /// <summary>
    /// Every instruction in the programs' code, decoded by <see cref="TinyOdl.Simulation.Decoder"/> and by llvm-objdump-19: the same
    /// mnemonic (compressed ones as the instruction they expand to) and, for 32-bit instructions, the same registers.
    /// </summary>
    [Fact]
    public void Decoder_agrees_with_llvm_objdump_on_every_instruction_of_the_programs()
    {
        int checkedCount = 0;
        var mnemonics = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var elf in fixture.Outcomes.Where(o => o.Error is null).Select(o => o.Elf).Distinct())
        {
            var dump = QemuRunner.Exec("llvm-objdump-19", $"-d -M no-aliases --mattr=+m,+a,+f,+c,+zfh,+v,+zvfh,+zbb \"{elf}\"");
            Assert.True(dump.Code == 0, dump.Stderr);
            foreach (var line in dump.Stdout.Split('\n'))
            {
                var parts = line.Split('\t');
                if (parts.Length < 2 || !Regex.IsMatch(parts[0], @"^[0-9a-f]+: ")) continue;
                string hex = parts[0].Split(':')[1].Trim(), theirs = parts[1].Trim();
                if (theirs is "c.unimp" or "unimp" || theirs.StartsWith('<')) continue;
                uint bits = Convert.ToUInt32(hex, 16);
                var inst = TinyOdl.Simulation.Decoder.Decode(bits, AsmSuite.AllFeatures);
                string ours = Disassembler.Format(inst, Convert.ToUInt32(parts[0].Split(':')[0], 16));
                string name = ours.Split(' ')[0];
                Assert.True(name == Expanded(theirs), $"{elf}: {line.Trim()} decoded as `{ours}`");
                if (hex.Length == 8)
                {
                    string operands = parts.Length > 2 ? parts[2] : "";
                    var a = Registers.Matches(operands).Select(m => m.Value).ToArray();
                    var b = Registers.Matches(ours[name.Length..]).Select(m => m.Value).ToArray();
                    Assert.True(a.SequenceEqual(b), $"{elf}: {line.Trim()} decoded as `{ours}`");
                }
                mnemonics.Add(name);
                checkedCount++;
            }
        }
        output.WriteLine($"{checkedCount:N0} instructions checked, {mnemonics.Count} distinct operations: {string.Join(' ', mnemonics)}");
        Assert.True(checkedCount > 10_000);
    }
}
