using System.Security.Cryptography;
using System.Text;
using Btmc.Ledger.Transparency;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Xunit;

namespace Btmc.Ledger.Tests.Transparency;

public class SignedNoteTests
{
    // Published vectors. The shared test data holds no signed-note vectors, so these are quoted from their sources:
    // - golang.org/x/mod/sumdb/note (package documentation and note_test.go): the PeterNeumann Ed25519 key and note;
    // - github.com/transparency-dev/formats note/note_verifier_test.go: the Sigstore Rekor ECDSA (type 0x02) key and
    //   a checkpoint Rekor signed with it.
    private const string PeterText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    private const string PeterNote = PeterText + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    private const string PeterSigningKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    private const string RekorKeyMaterial = "AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=";
    private const string RekorNote = "Rekor\n798034\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n\u2014 rekor.sigstore.dev wNI9ajBEAiARInWIWyCdyG27CO6LPnPekyw20qO0YJfoaPaowGp/XgIgc+qEHS3+GKVClgqq20uDLet7MCoTURUCRdxwWBHHufk=\n";

    private static EcPublicJwk RekorKey()
    {
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(RekorKeyMaterial)[1..], out _);
        return EcPublicJwk.FromECDsa(ecdsa);
    }

    [Fact]
    public void Parse_GoSumdbNote_KeepsTheTextAndTheSignatureLine()
    {
        var note = SignedNote.Parse(PeterNote);
        Assert.Equal(PeterText, note.Text);
        var signature = Assert.Single(note.Signatures);
        Assert.Equal("PeterNeumann", signature.KeyName);
        Assert.Equal(0xc74f20a3u, signature.KeyId);
        Assert.Equal(PeterNote, note.Format());
    }

    [Fact]
    public void Ed25519_GoSumdbSigningKey_ReproducesThePublishedSignatureBytes()
    {
        // Ed25519 is deterministic: BouncyCastle over the note text must give exactly the published signature.
        var seed = Convert.FromBase64String(PeterSigningKey.Split('+', 5)[4])[1..];
        var signer = new Ed25519Signer();
        signer.Init(true, new Ed25519PrivateKeyParameters(seed));
        var text = Encoding.UTF8.GetBytes(PeterText);
        signer.BlockUpdate(text, 0, text.Length);
        Assert.Equal(SignedNote.Parse(PeterNote).Signatures[0].Signature, signer.GenerateSignature());
    }

    [Fact]
    public void EcdsaVerify_RekorCheckpoint_VerifiesAndComputesThePublishedKeyId()
    {
        var key = RekorKey();
        Assert.Equal(0xc0d23d6au, EcdsaNoteKey.KeyIdOf(key));
        Assert.Equal("rekor.sigstore.dev+c0d23d6a+" + RekorKeyMaterial, EcdsaNoteKey.VerifierKey("rekor.sigstore.dev", key));
        var note = SignedNote.Parse(RekorNote);
        Assert.True(EcdsaNoteKey.Verify(note, "rekor.sigstore.dev", key));
        var checkpoint = Checkpoint.Parse(note.Text);
        Assert.Equal(("Rekor", 798034L), (checkpoint.Origin, checkpoint.Size));
    }

    [Fact]
    public void EcdsaVerify_TamperedTextOrOtherName_IsFalse()
    {
        var key = RekorKey();
        Assert.False(EcdsaNoteKey.Verify(SignedNote.Parse(RekorNote.Replace("798034", "798035", StringComparison.Ordinal)), "rekor.sigstore.dev", key));
        Assert.False(EcdsaNoteKey.Verify(SignedNote.Parse(RekorNote), "bananas.sigstore.dev", key));
    }

    [Fact]
    public async Task EcdsaSignAsync_P1363SigningKey_VerifiesAsDerNoteSignature()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = EcPublicJwk.FromECDsa(ecdsa);
        var text = Checkpoint.ForBlock("btmc.test/supply-0", 10, Hash32.Compute("x"u8), 3, Hash32.Compute("b"u8)).ToText();
        var line = await EcdsaNoteKey.SignAsync("btmc.test/supply-0", key, text, (digest, _) => Task.FromResult(BlockSignature.Sign(ecdsa, digest)));
        var note = SignedNote.Parse(new SignedNote(text, [line]).Format());
        Assert.True(EcdsaNoteKey.Verify(note, "btmc.test/supply-0", key));
    }

    [Theory]
    [InlineData("a\nb\n", "no blank line")]
    [InlineData("a\n\n\u2014 k AAAAAAA=", "does not end with a newline")]
    [InlineData("a\n\n- k AAAAAAA=\n", "must start with")]
    [InlineData("a\n\n\u2014 k+1 AAAAAAA=\n", "plus sign")]
    [InlineData("a\n\n\u2014 k AAAA\n", "4-byte key ID and a signature")]
    [InlineData("a\n\n\u2014 k !!!!\n", "not standard base64")]
    [InlineData("a\tb\n\n\u2014 k AAAAAAA=\n", "control character")]
    public void Parse_MalformedNote_ThrowsFormatExceptionSayingWhy(string note, string why)
    {
        var error = Assert.Throws<FormatException>(() => SignedNote.Parse(note));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithSignature_SameNameAndKeyIdTwice_KeepsOneLine()
    {
        var note = SignedNote.Parse(PeterNote);
        Assert.Same(note, note.WithSignature(note.Signatures[0]));
        Assert.Equal(2, note.WithSignature(new NoteSignature("Other", 1, [1])).Signatures.Count);
    }
}
