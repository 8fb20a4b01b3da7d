"""The names of the 26 preset styles, in the preset net's order (no torch: hints and the protocol use them)."""

# The net came without names for its styles. These describe what each one looks like (see the contact
# sheet from `restyle styles --sheet`); the index is the style's row in the net's tables.
PRESET_NAMES = (
    "honey-pastel", "ink-and-yellow", "charcoal-wash", "carnival", "rose-fresco", "ember-mosaic",
    "night-pebbles", "cobalt-gold", "watercolor-pop", "batik", "sepia-sketch", "straw-etching",
    "lavender-haze", "green-cubist", "frost", "stained-glass", "blue-swirl", "woven-grid",
    "tan-woodcut", "starry-blue", "scarlet", "pop-collage", "slate-poster", "dusk-oil", "porcelain",
    "kaleidoscope",
)
