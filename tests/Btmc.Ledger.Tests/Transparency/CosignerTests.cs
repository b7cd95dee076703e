using System.Security.Cryptography;
using Btmc.Ledger.Transparency;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;

namespace Btmc.Ledger.Tests.Transparency;

public class CosignerTests
{
    // Published type 0x04 verifier key of transparency-dev/formats note/note_cosigv1_test.go: its key ID must come out
    // of the tlog-cosignature derivation SHA-256(name || 0x0A || 0x04 || key)[:4].
    private const string RemoraKey = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";

    private static readonly string Text = Checkpoint.ForBlock("btmc.test/supply-1", 12, Hash32.Compute("root"u8), 4, Hash32.Compute("block"u8)).ToText();

    private static readonly DateTimeOffset Time = DateTimeOffset.FromUnixTimeSeconds(1_796_000_000);

    [Fact]
    public void ParseVerifierKey_PublishedEd25519CosignerKey_MatchesItsKeyIdAndRoundTrips()
    {
        var cosigner = Cosigner.ParseVerifierKey(RemoraKey);
        Assert.Equal(CosignatureAlgorithm.Ed25519, cosigner.Algorithm);
        Assert.Equal(0xda77ade7u, cosigner.KeyId);
        Assert.Equal(RemoraKey, cosigner.ToVerifierKey());
    }

    [Theory]
    [InlineData("remora.n621.de+da77ade8+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")]
    [InlineData("remora.n621.de+da77ade7+AevN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")]
    [InlineData("remora n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")]
    [InlineData("remora.n621.de+da77ade7")]
    public void ParseVerifierKey_WrongIdTypeNameOrParts_ThrowsFormatException(string key) =>
        Assert.Throws<FormatException>(() => Cosigner.ParseVerifierKey(key));

    [Fact]
    public void SignEd25519_Checkpoint_VerifiesWithTheTimestampAndFailsOnOtherText()
    {
        var key = new Ed25519PrivateKeyParameters(new byte[32].Select((_, i) => (byte)i).ToArray());
        var cosigner = Cosigner.OfEd25519("witness.test/w1", key);
        var line = cosigner.SignEd25519(key, Text, Time);
        Assert.Equal(8 + 64, line.Signature.Length);
        var note = SignedNote.Parse(new SignedNote(Text, [line]).Format());
        Assert.Equal(Time, cosigner.Verify(note));
        Assert.Null(cosigner.Verify(note with { Text = Text.Replace("12", "13", StringComparison.Ordinal) }));
        Assert.Equal(cosigner.KeyId, Cosigner.ParseVerifierKey(cosigner.ToVerifierKey()).KeyId);
    }

    [Fact]
    public void SignEd25519_FixedKeyAndTime_IsTheDocumentedGoldenLine()
    {
        // docs/ledger-format.md, "Cosignatures": Ed25519 is deterministic, so this line is fixed by key, time and text.
        var key = new Ed25519PrivateKeyParameters(new byte[32].Select((_, i) => (byte)i).ToArray());
        var cosigner = Cosigner.OfEd25519("witness.test/w1", key);
        var line = cosigner.SignEd25519(key, "btmc.local/supply-0\n3\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", Time);
        Assert.Equal(GoldenLine, line.ToLine());
    }

    // Computed independently with Python's cryptography package (the script is in docs/ledger-format.md).
    private const string GoldenLine = "\u2014 witness.test/w1 pnVgzwAAAABrDMkAl9osIGRlrvSzSZRpreOZBauekYmfzXf3SL22Qysl/vaPUWwpEDcEcCMgb36QDQvtk8G/k0gxgfnneg9fnTA1DQ==";

    [Fact]
    public void ToVerifierKey_FixedKey_IsTheDocumentedGoldenKey()
    {
        var key = new Ed25519PrivateKeyParameters(new byte[32].Select((_, i) => (byte)i).ToArray());
        Assert.Equal("witness.test/w1+a67560cf+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", Cosigner.OfEd25519("witness.test/w1", key).ToVerifierKey());
    }

    [Fact]
    public async Task SignEcdsaAsync_P256Key_VerifiesAndTheVerifierKeyRoundTrips()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var cosigner = Cosigner.OfEcdsa("witness.test/kv", EcPublicJwk.FromECDsa(ecdsa));
        var line = await cosigner.SignEcdsaAsync((digest, _) => Task.FromResult(BlockSignature.Sign(ecdsa, digest)), Text, Time);
        var note = new SignedNote(Text, [line]);
        Assert.Equal(Time, cosigner.Verify(note));
        var parsed = Cosigner.ParseVerifierKey(cosigner.ToVerifierKey());
        Assert.Equal(cosigner.KeyId, parsed.KeyId);
        Assert.Equal(Time, parsed.Verify(note));

        // A plain type 0x02 note signature by the same key is a different statement and is not taken for a cosignature.
        var plain = await EcdsaNoteKey.SignAsync("witness.test/kv", EcPublicJwk.FromECDsa(ecdsa), Text, (digest, _) => Task.FromResult(BlockSignature.Sign(ecdsa, digest)));
        Assert.Null(cosigner.Verify(new SignedNote(Text, [plain])));
    }
}
