using System.Globalization;
using TinyOdl.Targets;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>
/// Protocol.Compare against a real device run: corrupt exactly one expected value and the comparison must name
/// exactly that tensor and element, with the expected (corrupted) and the actual (device) bit patterns.
/// </summary>
public sealed partial class ModelMatrixTests
{
    private const string VerifyModel = "mlp2_7x5x3_relu_ce_momentum_wd";
    private const string TrainingModel = "mlp2_training_epochs_ce";

    private (IReadOnlyList<ProtocolLine> Expected, IReadOnlyList<ProtocolLine> Actual) BitExactRun(string model, string combo = "gcc-O2")
    {
        var outcome = fixture.Outcome(model, combo);
        Assert.True(outcome.Run is { Succeeded: true }, $"{model} with {combo}: run failed ({outcome.Error?.Message})");
        var expected = fixture.Case(model).Expected;
        Assert.Empty(Protocol.Compare(expected, outcome.Run!.Lines)); // the baseline is bit-exact
        return (expected, outcome.Run!.Lines);
    }

    private static IReadOnlyList<ProtocolLine> WithField(IReadOnlyList<ProtocolLine> lines, Func<ProtocolLine, bool> which, int field, string value)
    {
        int index = lines.ToList().FindIndex(l => which(l));
        Assert.True(index >= 0, "no such line to corrupt");
        var copy = lines.ToArray();
        var fields = copy[index].Fields.ToArray();
        fields[field] = value;
        copy[index] = copy[index] with { Fields = fields };
        return copy;
    }

    /// <summary>The same float with its lowest mantissa bit flipped.</summary>
    private static string FlipLowBit(string hex) =>
        (uint.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture) ^ 1u).ToString("x8", CultureInfo.InvariantCulture);

    [Fact]
    public void Compare_names_the_one_corrupted_parameter_element_with_both_bit_patterns()
    {
        var (expected, actual) = BitExactRun(VerifyModel);
        var line = expected.Single(l => l.Keyword == "param" && l.Fields[0] == "fc2_weight");
        const int element = 4;
        string original = line.Fields[2 + element];
        string corrupted = FlipLowBit(original);

        var mismatches = Protocol.Compare(WithField(expected, l => l == line, 2 + element, corrupted), actual);

        var m = Assert.Single(mismatches);
        Assert.Equal("fc2_weight", m.Tensor);
        Assert.Equal(element, m.Index);
        Assert.Equal("0x" + corrupted, m.Expected);
        Assert.Equal("0x" + original, m.Actual);
        Assert.Equal($"fc2_weight[4]: expected 0x{corrupted}, got 0x{original}", m.ToString());
    }

    [Fact]
    public void Compare_reports_first_and_last_element_of_every_parameter_tensor()
    {
        var (expected, actual) = BitExactRun(VerifyModel, "llvm-O2");
        var params_ = expected.Where(l => l.Keyword == "param").ToArray();
        Assert.NotEmpty(params_);
        foreach (var line in params_)
        {
            int elements = int.Parse(line.Fields[1], CultureInfo.InvariantCulture);
            foreach (int element in new[] { 0, elements - 1 })
            {
                string original = line.Fields[2 + element];
                var m = Assert.Single(Protocol.Compare(WithField(expected, l => l == line, 2 + element, FlipLowBit(original)), actual));
                Assert.Equal((line.Fields[0], element, "0x" + FlipLowBit(original), "0x" + original), (m.Tensor, m.Index, m.Expected, m.Actual));
            }
        }
    }

    [Fact]
    public void Compare_names_the_one_corrupted_prediction_element()
    {
        var (expected, actual) = BitExactRun(VerifyModel, "clang-O3");
        var line = expected.Single(l => l.Keyword == "predict" && l.Fields[0] == "1");
        const int element = 2;
        string original = line.Fields[1 + element];
        string corrupted = FlipLowBit(original);

        var m = Assert.Single(Protocol.Compare(WithField(expected, l => l == line, 1 + element, corrupted), actual));

        Assert.Equal("predict[1]", m.Tensor);
        Assert.Equal(element, m.Index);
        Assert.Equal("0x" + corrupted, m.Expected);
        Assert.Equal("0x" + original, m.Actual);
    }

    [Fact]
    public void Compare_names_the_one_corrupted_step_loss()
    {
        var (expected, actual) = BitExactRun(VerifyModel, "clang-O2");
        var line = expected.Single(l => l.Keyword == "step" && l.Fields[0] == "3");
        Assert.Equal("loss", line.Fields[1]);
        string original = line.Fields[2];
        string corrupted = FlipLowBit(original);

        var m = Assert.Single(Protocol.Compare(WithField(expected, l => l == line, 2, corrupted), actual));

        Assert.Contains("step 3", m.Tensor);
        Assert.Contains("loss", m.Tensor);
        Assert.Equal(-1, m.Index); // a scalar: no element index
        Assert.EndsWith(corrupted, m.Expected);
        Assert.EndsWith(original, m.Actual);
    }

    [Fact]
    public void Compare_names_the_corrupted_epoch_loss_sum_and_accuracy()
    {
        var (expected, actual) = BitExactRun(TrainingModel);
        var epoch2 = expected.Single(l => l.Keyword == "epoch" && l.Fields[0] == "2");
        string sum = epoch2.Field("loss_sum");
        int sumField = epoch2.Fields.ToList().IndexOf("loss_sum") + 1;
        var m = Assert.Single(Protocol.Compare(WithField(expected, l => l == epoch2, sumField, FlipLowBit(sum)), actual));
        Assert.Contains("epoch 2", m.Tensor);
        Assert.Contains("loss_sum", m.Tensor);
        Assert.EndsWith(FlipLowBit(sum), m.Expected);
        Assert.EndsWith(sum, m.Actual);

        ulong correct = epoch2.UInt("correct");
        int correctField = epoch2.Fields.ToList().IndexOf("correct") + 1;
        var c = Assert.Single(Protocol.Compare(WithField(expected, l => l == epoch2, correctField, (correct + 1).ToString(CultureInfo.InvariantCulture)), actual));
        Assert.Contains("epoch 2", c.Tensor);
        Assert.Contains("correct", c.Tensor);
        Assert.Equal((correct + 1).ToString(CultureInfo.InvariantCulture), c.Expected);
        Assert.Equal(correct.ToString(CultureInfo.InvariantCulture), c.Actual);
    }

    [Fact]
    public void Compare_ignores_performance_counters()
    {
        var (expected, actual) = BitExactRun(VerifyModel);
        var step = expected.First(l => l.Keyword == "step");
        int instret = step.Fields.ToList().IndexOf("instret") + 1;
        Assert.Empty(Protocol.Compare(WithField(expected, l => l == step, instret, "123456789"), actual));
    }

    [Fact]
    public void Compare_reports_a_truncated_device_output()
    {
        var (expected, actual) = BitExactRun(VerifyModel);
        var truncated = actual.Take(actual.Count - 2).ToArray(); // lost the last prediction and "done"
        var m = Assert.Single(Protocol.Compare(expected, truncated));
        Assert.Equal("(end of output)", m.Actual);
    }
}
