# A two-layer network written the way chapter 4 of the book writes it: functions from
# common.functions (numpy arrives through the star import), gradients by hand.
import sys, os
sys.path.append(os.pardir)
from common.functions import *
from common.gradient import numerical_gradient


class TwoLayerNet:

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {
            'W1': weight_init_std * rng.standard_normal((input_size, hidden_size)),
            'b1': np.zeros(hidden_size),
            'W2': weight_init_std * rng.standard_normal((hidden_size, output_size)),
            'b2': np.zeros(output_size),
        }

    def predict(self, x):
        hidden = sigmoid(np.dot(x, self.params['W1']) + self.params['b1'])
        return softmax(np.dot(hidden, self.params['W2']) + self.params['b2'])

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        guess = np.argmax(self.predict(x), axis=1)
        return np.sum(guess == np.argmax(t, axis=1)) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        f = lambda W: self.loss(x, t)
        return {key: numerical_gradient(f, self.params[key]) for key in ('W1', 'b1', 'W2', 'b2')}

    def gradient(self, x, t):
        W1, b1, W2, b2 = (self.params[k] for k in ('W1', 'b1', 'W2', 'b2'))
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        y = softmax(np.dot(z1, W2) + b2)
        dy = (y - t) / x.shape[0]
        da1 = np.dot(dy, W2.T) * sigmoid_grad(a1)
        return {'W1': np.dot(x.T, da1), 'b1': da1.sum(axis=0),
                'W2': np.dot(z1.T, dy), 'b2': dy.sum(axis=0)}
