using Btmc.Platform.Tables;
using Xunit;

namespace Btmc.Platform.Tests.Tables;

public sealed class LongTextTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(LongText.ChunkChars)]
    [InlineData(LongText.ChunkChars + 1)]
    [InlineData((3 * LongText.ChunkChars) + 17)]
    public void PutGet_AnyLength_RoundTripsInChunksAStringPropertyHolds(int length)
    {
        var text = new string('x', length);
        var properties = new Dictionary<string, object>();

        LongText.Put(properties, "Result", text);

        Assert.Equal(Math.Max(1, (length + LongText.ChunkChars - 1) / LongText.ChunkChars), properties.Count);
        Assert.All(properties.Values, v => Assert.True(((string)v).Length <= TableRules.MaxStringChars));
        Assert.Equal(text, LongText.Get(new TableEntity("p", "r", properties), "Result"));
    }

    [Fact]
    public void Get_NoSuchProperty_IsNull()
    {
        Assert.Null(LongText.Get(new TableEntity("p", "r", new Dictionary<string, object> { ["Other"] = "x" }), "Result"));
    }

    [Fact]
    public void Put_MoreThanTheRowHolds_IsRefusedAndWritesNothing()
    {
        var properties = new Dictionary<string, object>();

        Assert.Throws<ArgumentException>(() => LongText.Put(properties, "Result", new string('x', (2 * LongText.ChunkChars) + 1), maxProperties: 2));
        Assert.Empty(properties);
    }

    [Fact]
    public void Rows_SurrogatePairAtTheCut_NeverSplitsThePair()
    {
        // A high surrogate as the last character of the first chunk: the pair moves whole into the next chunk.
        var text = new string('a', LongText.ChunkChars - 1) + "\U0001F600" + "tail";

        var rows = LongText.Rows("capture", "ids-", "EventIds", text);

        Assert.Equal(["ids-0000", "ids-0001"], rows.Select(r => r.RowKey));
        Assert.All(rows, r => Assert.False(char.IsHighSurrogate(r.GetString("EventIds")[^1])));
        Assert.All(rows, r => Assert.False(char.IsLowSurrogate(r.GetString("EventIds")[0])));
        Assert.Equal(text, LongText.Join(rows.Reverse(), "ids-", "EventIds"));
    }

    [Fact]
    public void Join_OtherRowsInThePartition_AreIgnored()
    {
        var rows = LongText.Rows("capture", "ids-", "EventIds", "a\nb\n").Append(
            new TableEntity("capture", "summary", new Dictionary<string, object> { ["EventIds"] = "not an id" }));

        Assert.Equal("a\nb\n", LongText.Join(rows, "ids-", "EventIds"));
    }
}
