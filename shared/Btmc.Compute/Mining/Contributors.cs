using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Tables;

namespace Btmc.Compute.Mining;

/// <summary>A registered contributor: id, resource type (cpu, gpu, asic) and the key their submissions are signed with.</summary>
public sealed record Contributor(string Id, string ResourceType, EcPublicJwk PublicKey, DateTimeOffset RegisteredAt);

/// <summary>
/// The contributor registry (table <c>contributors</c>). A registration proves possession of the key: the contributor
/// signs SHA-256 of <c>"BTMC-CONTRIBUTOR-1\n{id}\n{resource type}\n{key thumbprint}\n"</c>.
/// </summary>
public sealed class Contributors(ComputeTables tables)
{
    public static readonly IReadOnlySet<string> ResourceTypes = new HashSet<string>(StringComparer.Ordinal) { "cpu", "gpu", "asic" };

    private readonly ConcurrentDictionary<string, Contributor> _cache = new(StringComparer.Ordinal);

    public static Hash32 RegistrationDigest(string id, string resourceType, EcPublicJwk key) =>
        Hash32.Compute(Encoding.UTF8.GetBytes($"BTMC-CONTRIBUTOR-1\n{id}\n{resourceType}\n{key.ComputeThumbprint()}\n"));

    /// <summary>Registers a contributor; registering the same id with the same key again changes nothing (returns false).</summary>
    /// <exception cref="Refused">Malformed, mis-signed, or the id belongs to another key.</exception>
    public async Task<(Contributor Contributor, bool Created)> RegisterAsync(string id, string resourceType, EcPublicJwk key, string signature, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        if (!ProducerSchedule.IsValidProducerId(id))
        {
            throw Refused.Invalid("id", "A contributor id is 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }

        if (!ResourceTypes.Contains(resourceType))
        {
            throw Refused.Invalid("resourceType", "The resource type is cpu, gpu or asic.");
        }

        byte[] signatureBytes;
        try
        {
            _ = key.ComputeThumbprint();
            signatureBytes = Convert.FromBase64String(signature);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            throw Refused.Invalid(ex is FormatException ? "signature" : "publicKey", ex.Message);
        }

        if (!BlockSignature.Verify(key, RegistrationDigest(id, resourceType, key), signatureBytes))
        {
            throw Refused.Invalid("signature", "The signature does not verify with the key given over the registration digest.");
        }

        if (await FindAsync(id, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing.PublicKey.ComputeThumbprint() == key.ComputeThumbprint() && existing.ResourceType == resourceType
                ? (existing, false)
                : throw Refused.Conflict("id", $"Contributor '{id}' is registered with another key or resource type.");
        }

        var contributor = new Contributor(id, resourceType, key with { Kid = null }, now);
        try
        {
            await tables.Contributors.AddEntityAsync(new TableEntity(ComputeTables.ContributorsPartition, id, new Dictionary<string, object>
            {
                ["ResourceType"] = resourceType,
                ["PublicKey"] = JsonSerializer.Serialize(contributor.PublicKey),
                ["RegisteredAt"] = now,
            }), cancellationToken).ConfigureAwait(false);
        }
        catch (TableStoreException ex) when (ex.Status == 409)
        {
            return await RegisterAsync(id, resourceType, key, signature, now, cancellationToken).ConfigureAwait(false);
        }

        _cache[id] = contributor;
        return (contributor, true);
    }

    public async Task<Contributor?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        if (_cache.TryGetValue(id, out var cached))
        {
            return cached;
        }

        if (!ProducerSchedule.IsValidProducerId(id))
        {
            return null;
        }

        var row = await tables.Contributors.GetEntityIfExistsAsync(ComputeTables.ContributorsPartition, id, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var contributor = new Contributor(id, row.GetString("ResourceType"), JsonSerializer.Deserialize<EcPublicJwk>(row.GetString("PublicKey"))!, (DateTimeOffset)row.Properties["RegisteredAt"]);
        return _cache.GetOrAdd(id, contributor);
    }
}
