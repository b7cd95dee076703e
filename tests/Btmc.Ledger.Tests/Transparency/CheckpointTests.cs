using Btmc.Ledger.Transparency;
using Xunit;

namespace Btmc.Ledger.Tests.Transparency;

public class CheckpointTests
{
    [Fact]
    public void ToText_BlockCheckpoint_IsTheDocumentedGoldenText()
    {
        // docs/ledger-format.md, "Checkpoints": the root of the empty string's SHA-256 and a zero block hash.
        var checkpoint = Checkpoint.ForBlock("btmc.local/supply-0", 3, MerkleTree.EmptyRoot, 2, Hash32.Zero);
        Assert.Equal(
            "btmc.local/supply-0\n3\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nblock 2 0000000000000000000000000000000000000000000000000000000000000000\n",
            checkpoint.ToText());
        Assert.True(Checkpoint.Parse(checkpoint.ToText()).SameAs(checkpoint));
        Assert.Equal((2L, Hash32.Zero), Checkpoint.Parse(checkpoint.ToText()).Block);
    }

    [Theory]
    [InlineData("o\n1\n")]
    [InlineData("o\n01\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")]
    [InlineData("o\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")]
    [InlineData("o\n1\nAAAA\n")]
    [InlineData("o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n")]
    [InlineData("o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")]
    public void Parse_MalformedText_ThrowsFormatException(string text) =>
        Assert.Throws<FormatException>(() => Checkpoint.Parse(text));

    [Fact]
    public void Parse_ZeroSize_IsAllowed() =>
        Assert.Equal(0, Checkpoint.Parse("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n").Size);
}
