using System.Collections.Concurrent;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Keys;

namespace Btmc.Chains;

/// <summary>
/// The producer keys this process can sign with (Key Vault keys in Azure, key files in the embedded default), found
/// by the public key the producer registry holds for a slot's producer. A slot whose producer's key is not here is
/// left to another process, or stays empty.
/// </summary>
public sealed class ProducerKeyring
{
    private readonly ConcurrentDictionary<string, ISigningKey> _byKeyId = new(StringComparer.Ordinal);

    public ProducerKeyring(IEnumerable<ISigningKey> keys)
    {
        foreach (var key in keys)
        {
            Add(key);
        }
    }

    public IReadOnlyCollection<ISigningKey> Keys => _byKeyId.Values.ToList();

    public void Add(ISigningKey key) => _byKeyId[key.KeyId] = key;

    /// <summary>The key of <paramref name="producer"/>, when this process holds it.</summary>
    public ISigningKey? Find(ProducerCandidate producer) =>
        _byKeyId.TryGetValue(producer.PublicKey.ComputeThumbprint(), out var key) ? key : null;
}
