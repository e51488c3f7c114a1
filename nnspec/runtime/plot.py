"""curves.png: train and validation loss and metrics per epoch, from the run's rows."""

from __future__ import annotations


def plot_curves(rows: list[dict], path: str) -> None:
    # A Figure of its own, not pyplot: no backend to pick, no global state, a third less to import.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    names = sorted(
        {k.split("_", 1)[1] for row in rows for k in row if k.startswith(("train_", "val_"))}, key=lambda n: n != "loss"
    )
    fig = Figure(figsize=(4.5 * len(names), 3.5))
    axes = fig.subplots(1, len(names), squeeze=False)
    epochs = [row["epoch"] for row in rows]
    for ax, name in zip(axes[0], names):
        for split in ("train", "val"):
            key = f"{split}_{name}"
            if key in rows[0]:
                ax.plot(epochs, [row[key] for row in rows], label=split, marker="." if len(rows) < 30 else None)
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    # Fixed margins (in inches, made fractions): tight_layout would draw the figure once more.
    width = 4.5 * len(names)
    fig.subplots_adjust(left=0.6 / width, right=1 - 0.15 / width, bottom=0.15, top=0.9, wspace=0.3)
    fig.savefig(path, dpi=100)
