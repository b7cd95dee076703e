using System.Text;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Functions.Partners;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;
using Btmc.Supply;

namespace Btmc.Functions.Witnesses;

/// <summary>
/// Witnesses (docs/witnesses.md): the public list of registered witnesses and an operator's direct changes to it on a
/// ledger without a committee; the intake of cosignatures, which needs no credential because the cosignature itself
/// authenticates its witness; and each witness's latest cosigned checkpoint of a chain.
/// </summary>
public static class WitnessEndpoints
{
    /// <summary>
    /// The largest cosigned note taken: a checkpoint's text and a few signature lines are well under a kilobyte; this
    /// leaves room for extension lines and still bounds what an anonymous caller makes the server read.
    /// </summary>
    public const int MaxNoteBytes = 16 * 1024;

    /// <summary>How far in the future a cosignature's timestamp may be: clock skew between witness and backend.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/witnesses", List).WithName(FunctionNames.ListWitnesses);
        app.MapPost("/api/witnesses", AddAsync).WithName(FunctionNames.AddWitness).RequireCaller(PartnerRoles.Operator);
        app.MapDelete("/api/witnesses/{*name}", RemoveAsync).WithName(FunctionNames.RemoveWitness).RequireCaller(PartnerRoles.Operator);
        app.MapPost("/api/ledger/checkpoints/{chainId}/cosignatures", PostCosignatureAsync).WithName(FunctionNames.PostCosignature);
        app.MapGet("/api/ledger/checkpoints/{chainId}/cosignatures", ListCosignaturesAsync).WithName(FunctionNames.ListCosignatures);
    }

    /// <summary>Every registered witness: names and verifier keys, which are public keys and not secret.</summary>
    private static IResult List(WitnessRegistry registry) => Results.Json(new
    {
        witnesses = registry.Witnesses.Values.OrderBy(w => w.Name, StringComparer.Ordinal).Select(View),
    });

    private static async Task<IResult> AddAsync(HttpContext context, WitnessRegistry registry, CancellationToken cancellationToken)
    {
        string verifierKey;
        using (var buffer = new MemoryStream())
        {
            await context.Request.Body.CopyToAsync(buffer, cancellationToken);
            try
            {
                using var body = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
                verifierKey = body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("verifierKey", out var given) && given.ValueKind == JsonValueKind.String
                    ? given.GetString()!
                    : throw Refused.Invalid("verifierKey", "The body is {\"verifierKey\": \"name+keyid+base64\"}.");
            }
            catch (JsonException ex)
            {
                throw Refused.Invalid("body", $"The body is not JSON: {ex.Message}");
            }
        }

        var witness = Renamed(() => AddWitness.FromVerifierKey(verifierKey)).Witness;
        await RenamedAsync(() => registry.AddAsync(witness, PartnerAuthentication.CallerOf(context).PartnerId, cancellationToken));
        return Results.Json(View(witness), statusCode: StatusCodes.Status201Created).WithLocation($"/api/witnesses/{witness.Name}");
    }

    private static async Task<IResult> RemoveAsync(string name, HttpContext context, WitnessRegistry registry, CancellationToken cancellationToken)
    {
        if (!registry.Witnesses.ContainsKey(name))
        {
            return Problems.NotFound($"There is no witness '{name}'.");
        }

        await RenamedAsync(() => registry.RemoveAsync(name, PartnerAuthentication.CallerOf(context).PartnerId, cancellationToken));
        return Results.NoContent();
    }

    /// <summary>
    /// Takes a cosigned checkpoint: the note text, the producer's signature line and a registered witness's
    /// cosignature line. Recorded when the cosignature verifies and the text is exactly this chain's checkpoint at that
    /// size; posting it again changes nothing.
    /// </summary>
    private static async Task<IResult> PostCosignatureAsync(string chainId, HttpContext context, SupplyBackend backend, WitnessRegistry registry, RollbackGuard rollback, TimeProvider time, CancellationToken cancellationToken)
    {
        var bytes = await ReadBoundedAsync(context.Request, cancellationToken);
        if (bytes is null)
        {
            return Problems.OfField(StatusCodes.Status413PayloadTooLarge, "Note too large", $"A cosigned checkpoint is at most {MaxNoteBytes} bytes.", "body");
        }

        SignedNote note;
        Checkpoint checkpoint;
        try
        {
            note = SignedNote.Parse(Encoding.UTF8.GetString(bytes));
            checkpoint = Checkpoint.Parse(note.Text);
        }
        catch (FormatException ex)
        {
            return Problems.OfField(StatusCodes.Status400BadRequest, "Malformed note", $"The body is not a signed checkpoint note: {ex.Message}", "body");
        }

        var witnesses = note.Signatures
            .Select(line => registry.Witnesses.TryGetValue(line.KeyName, out var w) && w.KeyId == line.KeyId ? (Witness: w, Line: line) : default)
            .Where(m => m.Witness is not null)
            .ToList();
        if (witnesses.Count == 0)
        {
            return Problems.OfField(StatusCodes.Status403Forbidden, "Unknown witness",
                "No signature line of the note is by a registered witness (name and key ID): register the witness first (docs/witnesses.md).", "signature");
        }

        var verified = new List<(Cosigner Witness, NoteSignature Line, DateTimeOffset Time)>();
        foreach (var (witness, line) in witnesses)
        {
            if (witness.Verify(note) is not { } stamped)
            {
                return Problems.OfField(StatusCodes.Status403Forbidden, "Bad cosignature", $"The cosignature of witness '{witness.Name}' does not verify over the note's text.", "signature");
            }

            if (stamped > time.GetUtcNow() + MaxClockSkew)
            {
                return Problems.OfField(StatusCodes.Status403Forbidden, "Cosignature from the future",
                    $"Witness '{witness.Name}' dated its cosignature {stamped:O}, more than {MaxClockSkew.TotalMinutes:0} minutes ahead of this server's clock.", "signature");
            }

            verified.Add((witness, line, stamped));
        }

        var block = await backend.Store.Checkpoints.FindBlockBySizeAsync(chainId, checkpoint.Size, cancellationToken: cancellationToken);
        if (block?.Checkpoint is not { } stored)
        {
            return Problems.OfField(StatusCodes.Status409Conflict, "Not our checkpoint",
                $"No block of chain '{chainId}' ends at size {checkpoint.Size} with a checkpoint: this ledger never signed a checkpoint of that size.", "body");
        }

        var ours = SignedNote.Parse(stored);
        if (!string.Equals(ours.Text, note.Text, StringComparison.Ordinal))
        {
            return Problems.OfField(StatusCodes.Status409Conflict, "Not our checkpoint",
                $"The note's text is not chain '{chainId}''s checkpoint at size {checkpoint.Size}: the origin, root hash or block line differs from what this ledger signed.", "body");
        }

        foreach (var (witness, line, stamped) in verified)
        {
            // Stored with the producer's own signature, so the note verifies as the ledger signed it whatever else the poster attached.
            var cosigned = new SignedNote(ours.Text, [.. ours.Signatures, line]).Format();
            await backend.Store.Cosignatures.RecordAsync(new CosignedCheckpoint(chainId, witness.Name, witness.KeyId, checkpoint.Size, stamped, cosigned), cancellationToken);

            // From now on no commit may follow a head below this size (a table restored under the running server).
            rollback.Remember(chainId, checkpoint.Size, checkpoint.RootHash, witness.Name, "a cosignature posted to this server");
        }

        return Results.Json(new
        {
            chainId,
            size = checkpoint.Size,
            witnesses = verified.Select(v => new { name = v.Witness.Name, keyId = $"{v.Witness.KeyId:x8}", time = v.Time }),
        });
    }

    /// <summary>Each witness's latest cosigned checkpoint of a chain.</summary>
    private static async Task<IResult> ListCosignaturesAsync(string chainId, SupplyBackend backend, CancellationToken cancellationToken)
    {
        var latest = await backend.Store.Cosignatures.LatestAsync(chainId, cancellationToken);
        return Results.Json(new
        {
            chainId,
            cosignatures = latest.OrderBy(c => c.Witness, StringComparer.Ordinal)
                .Select(c => new { witness = c.Witness, keyId = $"{c.KeyId:x8}", size = c.Size, time = c.Time, note = c.Note }),
        });
    }

    private static object View(Cosigner witness) => new
    {
        name = witness.Name,
        verifierKey = witness.ToVerifierKey(),
        keyId = $"{witness.KeyId:x8}",
        algorithm = witness.Algorithm == CosignatureAlgorithm.Ed25519 ? "ed25519" : "ecdsa-p256",
    };

    /// <summary>The body, or null when it is over <see cref="MaxNoteBytes"/> (read no further than one byte past it).</summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxNoteBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxNoteBytes)
            {
                return null;
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A refusal naming the request member (<c>verifierKey</c>, <c>name</c>) rather than the payload line.</summary>
    private static T Renamed<T>(Func<T> change)
    {
        try
        {
            return change();
        }
        catch (Refused ex) when (ex.Field is "verifier-key" or "witness")
        {
            var member = ex.Field == "witness" ? "name" : "verifierKey";
            throw new Refused(ex.Kind, member, ex.Message, ex.Title);
        }
    }

    private static async Task RenamedAsync(Func<Task> change)
    {
        try
        {
            await change();
        }
        catch (Refused ex) when (ex.Field is "verifier-key" or "witness")
        {
            var member = ex.Field == "witness" ? "name" : "verifierKey";
            throw new Refused(ex.Kind, member, ex.Message, ex.Title);
        }
    }
}
