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

    [Fact]
    public void ForBlock_ThreeLeafChainTree_IsTheDocumentedGoldenCheckpoint()
    {
        // docs/ledger-format.md, "Checkpoints": computed independently with Python's hashlib.
        var frontier = new MerkleFrontier();
        for (byte i = 0; i < 3; i++)
        {
            frontier.Append(MerkleTree.HashLeaf([i]));
        }

        Assert.Equal(
            "a20bf9a7cc2dc8a08f5f415a71b19f6ac427bab54d24eec868b5d3103449953afcf0a6c700dd13e274b6fba8deea8dd9b26e4eedde3495717cac8408c9c5177f",
            Convert.ToHexStringLower(frontier.Encode()));
        var text = Checkpoint.ForBlock("btmc/0123456789abcdef/supply-0", frontier.Size, frontier.ComputeRoot(), 1, Hash32.FromHex(string.Concat(Enumerable.Repeat("ab", 32)))).ToText();
        Assert.Equal("btmc/0123456789abcdef/supply-0\n3\nO2zM1+PgI/85MAbwMDFe562esRGwIrQfun5bejlz9og=\nblock 1 abababababababababababababababababababababababababababababababab\n", text);
        Assert.Equal("11e0f68c1e219cb4017746d5e68961c3252b7fe1d56e3ac5103b9b6a4a094aa3", Hash32.Compute(System.Text.Encoding.UTF8.GetBytes(text)).ToHex());
    }

    [Fact]
    public void KeyIdOf_FixedP256Key_IsTheDocumentedGoldenKeyId()
    {
        // docs/ledger-format.md, "Checkpoints": SHA-256 of the DER SubjectPublicKeyInfo, first four bytes (Python).
        var key = new EcPublicJwk("EC", "P-256", "lFuvv-Sbv_5cM9Sc0IPadc6AWq8fKoLPsBDgloFjWCo", "QPf2kqMlBp4izA_gTA5oMi9EWeRRBtVDJe4juMZr0YQ");
        Assert.Equal("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAElFuvv+Sbv/5cM9Sc0IPadc6AWq8fKoLPsBDgloFjWCpA9/aSoyUGniLMD+BMDmgyL0RZ5FEG1UMl7iO4xmvRhA==",
            Convert.ToBase64String(EcdsaNoteKey.SubjectPublicKeyInfo(key)));
        Assert.Equal(0x9ba0a22cu, EcdsaNoteKey.KeyIdOf(key));
    }
}
