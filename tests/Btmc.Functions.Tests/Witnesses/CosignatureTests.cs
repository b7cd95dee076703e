using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;

namespace Btmc.Functions.Tests.Witnesses;

/// <summary>The cosignature intake: a registered witness's valid cosignature of the chain's own checkpoint is recorded
/// (once, however often posted); an unknown witness, a bad signature, and a note that is not the chain's checkpoint
/// are refused, each with its own problem.</summary>
public sealed class CosignatureTests
{
    private static readonly Ed25519PrivateKeyParameters Key = new(Enumerable.Repeat((byte)7, 32).ToArray());
    private static readonly Cosigner Witness = Cosigner.OfEd25519("witness.test/w1", Key);

    /// <summary>A server with one sealed capture and <see cref="Witness"/> registered; the supply chain's latest checkpoint.</summary>
    private static async Task<(LocalServer Server, string ChainId, SignedNote Note)> StartAsync()
    {
        var server = await LocalServer.StartInProcessAsync();
        var (_, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.107346.1")));
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        using var operatorClient = server.ClientAs("operator");
        using var added = await operatorClient.PostAsJsonAsync("api/witnesses", new { verifierKey = Witness.ToVerifierKey() });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var view = (await server.GetJsonAsync("api/ledger/checkpoints")).GetProperty("chains").EnumerateArray()
            .First(c => c.GetProperty("chainId").GetString()!.StartsWith("supply", StringComparison.Ordinal));
        return (server, view.GetProperty("chainId").GetString()!, SignedNote.Parse(view.GetProperty("checkpoint").GetString()!));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(LocalServer server, string chainId, string note)
    {
        using var anonymous = server.ClientAs(null);
        using var content = new StringContent(note, Encoding.UTF8, "text/plain");
        using var response = await anonymous.PostAsync($"api/ledger/checkpoints/{chainId}/cosignatures", content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone());
    }

    private static string Cosign(SignedNote note, Cosigner witness, Ed25519PrivateKeyParameters key, DateTimeOffset? time = null) =>
        note.WithSignature(witness.SignEd25519(key, note.Text, time ?? DateTimeOffset.UtcNow)).Format();

    [Fact]
    public async Task Post_ValidCosignature_RecordedOnceAndListed()
    {
        var (server, chainId, note) = await StartAsync();
        await using var _ = server;
        var cosigned = Cosign(note, Witness, Key);

        var first = await PostAsync(server, chainId, cosigned);
        var again = await PostAsync(server, chainId, cosigned);
        var listed = await server.GetJsonAsync($"api/ledger/checkpoints/{chainId}/cosignatures");

        Assert.True(first.Status == HttpStatusCode.OK, first.Body.ToString());
        Assert.Equal(HttpStatusCode.OK, again.Status);
        var cosignature = Assert.Single(listed.GetProperty("cosignatures").EnumerateArray());
        Assert.Equal("witness.test/w1", cosignature.GetProperty("witness").GetString());
        var stored = SignedNote.Parse(cosignature.GetProperty("note").GetString()!);
        Assert.Equal(note.Text, stored.Text);
        Assert.NotNull(Witness.Verify(stored));
        Assert.Equal(2, stored.Signatures.Count);
    }

    [Fact]
    public async Task Post_UnknownWitnessBadSignatureOrFutureTime_403NamingWhy()
    {
        var (server, chainId, note) = await StartAsync();
        await using var _ = server;
        var strangerKey = new Ed25519PrivateKeyParameters(Enumerable.Repeat((byte)9, 32).ToArray());
        var stranger = Cosign(note, Cosigner.OfEd25519("witness.test/stranger", strangerKey), strangerKey);
        var line = Witness.SignEd25519(Key, note.Text, DateTimeOffset.UtcNow);
        var bad = note.WithSignature(line with { Signature = [.. line.Signature[..^1], (byte)(line.Signature[^1] ^ 1)] }).Format();
        var future = Cosign(note, Witness, Key, DateTimeOffset.UtcNow.AddHours(1));

        var unknown = await PostAsync(server, chainId, stranger);
        var forged = await PostAsync(server, chainId, bad);
        var early = await PostAsync(server, chainId, future);
        var listed = await server.GetJsonAsync($"api/ledger/checkpoints/{chainId}/cosignatures");

        Assert.Equal((HttpStatusCode.Forbidden, "Unknown witness"), (unknown.Status, unknown.Body.GetProperty("title").GetString()));
        Assert.Equal((HttpStatusCode.Forbidden, "Bad cosignature"), (forged.Status, forged.Body.GetProperty("title").GetString()));
        Assert.Equal((HttpStatusCode.Forbidden, "Cosignature from the future"), (early.Status, early.Body.GetProperty("title").GetString()));
        Assert.Equal(0, listed.GetProperty("cosignatures").GetArrayLength());
    }

    [Fact]
    public async Task Post_NoteThatIsNotTheChainsCheckpoint_409SayingWhich()
    {
        var (server, chainId, note) = await StartAsync();
        await using var _ = server;
        var checkpoint = Checkpoint.Parse(note.Text);
        var otherRoot = new SignedNote((checkpoint with { RootHash = Hash32.Compute("another tree"u8) }).ToText(), note.Signatures);
        var otherSize = new SignedNote((checkpoint with { Size = checkpoint.Size + 1000 }).ToText(), note.Signatures);

        var root = await PostAsync(server, chainId, Cosign(otherRoot, Witness, Key));
        var size = await PostAsync(server, chainId, Cosign(otherSize, Witness, Key));
        var malformed = await PostAsync(server, chainId, "not a note");

        Assert.Equal(HttpStatusCode.Conflict, root.Status);
        Assert.Contains("root hash", root.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, size.Status);
        Assert.Contains($"size {checkpoint.Size + 1000}", size.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "body"), (malformed.Status, malformed.Body.GetProperty("field").GetString()));
    }

    [Fact]
    public async Task Post_NoteOverTheLimit_413()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        var (status, _) = await PostAsync(server, "supply-0", new string('a', 17 * 1024));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
    }
}
