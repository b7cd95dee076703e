namespace Btmc.Platform.Tables;

/// <summary>How an update or upsert treats properties the new entity does not carry (as in Azure.Data.Tables).</summary>
public enum TableUpdateMode
{
    /// <summary>Keep properties absent from the new entity.</summary>
    Merge,

    /// <summary>Drop properties absent from the new entity.</summary>
    Replace,
}
