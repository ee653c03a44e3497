using TinyOdl.Targets;

namespace TinyOdl.Tests.Unit;

public class ProtocolTests
{
    private static readonly string Device = """
        model m arena 64 params 1
        step 0 loss 3f800000 instret 120 cycles 120
        param w 3 3f800000 40000000 c0400000
        predict 0 00000000 3f000000
        done
        """;

    [Fact]
    public void IdenticalNumericsWithDifferentCountersMatch()
    {
        var expected = Protocol.Parse(Device.Replace("instret 120 cycles 120", "instret 0 cycles 0"));
        Assert.Empty(Protocol.Compare(expected, Protocol.Parse(Device)));
    }

    [Fact]
    public void MismatchNamesTensorIndexAndBothBitPatterns()
    {
        var expected = Protocol.Parse(Device.Replace("40000000", "40000001"));
        var m = Assert.Single(Protocol.Compare(expected, Protocol.Parse(Device)));
        Assert.Equal("w[1]: expected 0x40000001, got 0x40000000", m.ToString());
    }

    [Fact]
    public void LossMismatchAndTruncatedOutputAreReported()
    {
        var expected = Protocol.Parse(Device);
        var actual = Protocol.Parse(Device.Replace("loss 3f800000", "loss 3f800001"));
        Assert.Equal("step 0 loss: expected 0x3f800000, got 0x3f800001", Assert.Single(Protocol.Compare(expected, actual)).ToString());
        var truncated = Protocol.Parse(string.Join('\n', Device.Split('\n').Take(2)));
        Assert.Contains(Protocol.Compare(expected, truncated), m => m.Actual == "(end of output)");
    }

    [Fact]
    public void PredictionsAreParsedToTheExactPrintedBits()
    {
        var lines = Protocol.Parse(Device.Replace("predict 0 00000000 3f000000", "predict 0 80000000 7fc00001\npredict 1 00000001 ff800000"));
        var p = Protocol.Predictions(lines, outputSize: 2);
        Assert.Equal([[0x80000000u, 0x7fc00001u], [0x00000001u, 0xff800000u]], p.Select(y => y.Select(BitConverter.SingleToUInt32Bits).ToArray()));
        Assert.Empty(Protocol.Predictions(Protocol.Parse("model m arena 64 params 0\ndone"), outputSize: 2));
    }

    [Fact]
    public void PredictionsOutOfOrderOrOfTheWrongSizeAreRejected()
    {
        var skipped = Protocol.Parse(Device.Replace("predict 0", "predict 1"));
        Assert.Contains("should be predict 0", Assert.Throws<FormatException>(() => Protocol.Predictions(skipped, 2)).Message);
        Assert.Contains("has 2 values, the model outputs 3", Assert.Throws<FormatException>(() => Protocol.Predictions(Protocol.Parse(Device), 3)).Message);
    }

    [Fact]
    public void HexRoundTripsEveryBitPattern()
    {
        foreach (uint bits in new uint[] { 0, 0x80000000, 0x7fc00000, 0x00000001, 0x7f7fffff, 0xff800000 })
            Assert.Equal(bits, BitConverter.SingleToUInt32Bits(Protocol.ParseF32(Protocol.Hex(BitConverter.UInt32BitsToSingle(bits)))));
    }
}
