"The bundled example data sets (Arrow files), installed as `mixednb._data`; read them with `mixednb.dataset(name)`."
