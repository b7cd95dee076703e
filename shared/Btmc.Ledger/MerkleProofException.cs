namespace Btmc.Ledger;

/// <summary>A Merkle inclusion or consistency proof did not verify.</summary>
public sealed class MerkleProofException : Exception
{
    public MerkleProofException()
        : this("The Merkle proof does not verify.")
    {
    }

    public MerkleProofException(string message)
        : base(message)
    {
    }

    public MerkleProofException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A root mismatch: the proof was well formed but led to a different root.</summary>
    public MerkleProofException(string message, Hash32 expectedRoot, Hash32 computedRoot)
        : base(message)
    {
        ExpectedRoot = expectedRoot;
        ComputedRoot = computedRoot;
    }

    /// <summary>The root the caller expected; set only for root mismatches.</summary>
    public Hash32? ExpectedRoot { get; }

    /// <summary>The root the proof led to; set only for root mismatches.</summary>
    public Hash32? ComputedRoot { get; }
}
